import type { NewEvent } from '@gantry/contracts';
import { sql } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, startCluster } from '../../src/cluster/cluster.js';
import { clusterChannel, parseMessage } from '../../src/cluster/cluster-channel.js';
import { type Database, openDatabase } from '../../src/db/database.js';
import { EventBus } from '../../src/events/event-bus.js';
import { SqlEventStore } from '../../src/events/sql-event-store.js';
import { freshSchemaName, releaseSchema } from '../support/engines.js';
import { cleanupAll, makeTempDir } from '../support/git-fixtures.js';
import { waitFor } from '../support/test-server.js';
import { pgUrl } from './cluster-fixture.js';

afterAll(cleanupAll);

const event = (subject: string, type: NewEvent['type'] = 'tag.seen'): NewEvent => ({
  type,
  appId: null,
  subject,
  actor: 'test',
  data: {},
});

describe('cluster messages', () => {
  it('reads what the triggers announce, and nothing else', () => {
    expect(parseMessage('["e", "srv_1", 42]')).toEqual({ kind: 'event', origin: 'srv_1', id: 42 });
    expect(parseMessage('["e", null, 7]')).toEqual({ kind: 'event', origin: null, id: 7 });
    expect(parseMessage('["r", "srv_2", "app_1", "production", 3]')).toEqual({
      kind: 'revision',
      origin: 'srv_2',
      appId: 'app_1',
      env: 'production',
      revision: 3,
    });
    for (const bad of ['', '42', '{"e":1}', '["e", "x", "1"]', '["r", "x", "a", 1, 2]', '["z", "x", 1]'])
      expect(parseMessage(bad)).toBeUndefined();
    // One channel per schema, a valid identifier whatever the schema's name.
    expect(clusterChannel('public')).toMatch(/^gantry_[0-9a-f]{32}$/);
    expect(clusterChannel('a')).not.toBe(clusterChannel('b'));
  });
});

/**
 * The relay of one server ("me") on a real schema, with another server's connections ("other")
 * appending behind its back: ids taken in one order and committed in another, a rolled-back id, a
 * dropped LISTEN connection.
 */
describe.runIf(pgUrl)('the event relay on PostgreSQL', () => {
  let me: Database;
  let other: Database;
  let cluster: Cluster;
  let schema: string;
  const bus = new EventBus();
  const heard: { id: number; subject: string | null; remote: boolean }[] = [];
  const revoked: string[] = [];
  let forgotten = 0;

  beforeAll(async () => {
    schema = freshSchemaName();
    const dataDir = await makeTempDir('gantry-relay-');
    me = await openDatabase({ url: pgUrl, dataDir, schema, origin: 'me' });
    other = await openDatabase({ url: pgUrl, dataDir, schema, origin: 'other' });
    bus.subscribe((e, o) => heard.push({ id: e.id, subject: e.subject, remote: o.remote }));
    cluster = await startCluster({
      url: pgUrl!,
      schema,
      db: me.db,
      origin: 'me',
      bus,
      events: new SqlEventStore(me.db, bus),
      logger: pino({ level: 'silent' }),
      revisions: () => {},
      tokens: { revokedElsewhere: (ids) => revoked.push(...ids), forget: () => forgotten++ },
      listener: { retryMs: 1_000 },
      holeWaitMs: 100,
    });
  });
  afterAll(async () => {
    await cluster?.close();
    await me?.close();
    await other?.close();
    if (schema) await releaseSchema(pgUrl!, schema);
  });

  const times = (subject: string) => heard.filter((h) => h.subject === subject);
  const arrived = (subject: string) =>
    waitFor(async () => (times(subject).length ? true : undefined), `${subject} to arrive`);

  it('records which server appended each event', async () => {
    const mine = await new SqlEventStore(me.db).append(event('origin-me'));
    const theirs = await new SqlEventStore(other.db).append(event('origin-other'));
    const rows = await new SqlEventStore(me.db).withOrigins(mine.id - 1, 10);
    expect(rows.filter((r) => [mine.id, theirs.id].includes(r.event.id)).map((r) => r.origin)).toEqual([
      'me',
      'other',
    ]);
  });

  it('publishes events in commit order when ids were taken in another order, each once', async () => {
    let commit!: () => void;
    const gate = new Promise<void>((r) => {
      commit = r;
    });
    let firstId = 0;
    const slow = other.db.transaction().execute(async (trx) => {
      firstId = (await new SqlEventStore(trx).append(event('taken-first'))).id;
      await gate;
    });
    await waitFor(async () => (firstId ? true : undefined), 'the slow transaction to take its id');
    const second = await new SqlEventStore(other.db).append(event('committed-first'));
    expect(second.id).toBeGreaterThan(firstId);
    await arrived('committed-first');
    expect(times('taken-first')).toEqual([]);
    commit();
    await slow;
    await arrived('taken-first');
    const order = heard.map((h) => h.subject).filter((s) => s === 'taken-first' || s === 'committed-first');
    expect(order).toEqual(['committed-first', 'taken-first']);
    expect(times('taken-first')).toEqual([{ id: firstId, subject: 'taken-first', remote: true }]);
  });

  it('does not publish again the events this server appended and published itself', async () => {
    const mine = await new SqlEventStore(me.db, bus).append(event('mine'));
    // A barrier: the next event from the other server comes after the announcement of mine.
    await new SqlEventStore(other.db).append(event('barrier-1'));
    await arrived('barrier-1');
    expect(times('mine')).toEqual([{ id: mine.id, subject: 'mine', remote: false }]);
  });

  it("closes the streams of a token another server revoked and forgets people's cached rights", async () => {
    const store = new SqlEventStore(other.db);
    await store.append(event('tok_elsewhere', 'token.revoked'));
    await store.append(event('someone', 'role.granted'));
    await arrived('someone');
    expect(revoked).toEqual(['tok_elsewhere']);
    expect(forgotten).toBe(1);
  });

  it('moves its floor past an id whose transaction rolled back', async () => {
    const burnt = await other.db
      .transaction()
      .execute(async (trx) => {
        const e = await new SqlEventStore(trx).append(event('rolled-back'));
        throw Object.assign(new Error('roll back'), { id: e.id });
      })
      .catch((err: { id: number }) => err.id);
    await new SqlEventStore(other.db).append(event('after-the-hole'));
    await arrived('after-the-hole');
    await waitFor(
      async () => (cluster.relay.stats().floor > burnt ? true : undefined),
      'the floor to pass the rolled-back id',
    );
    expect(times('rolled-back')).toEqual([]);
  });

  it('reads what was announced while its LISTEN connection was down, once, after reconnecting', async () => {
    const admin = new SqlEventStore(other.db);
    const before = cluster.listener.reconnects;
    const { rows } = await sql<{ ok: boolean }>`
      select pg_terminate_backend(${cluster.listener.pid}::int) as ok`.execute(other.db);
    expect(rows[0]!.ok).toBe(true);
    await waitFor(async () => (cluster.listener.listening ? undefined : true), 'the relay to notice');
    const mine = await new SqlEventStore(me.db, bus).append(event('mine-meanwhile'));
    for (const s of ['meanwhile-1', 'meanwhile-2', 'meanwhile-3']) await admin.append(event(s));
    // Appended while nobody of "me" listened (it waits a second before connecting again).
    expect(cluster.listener.listening).toBe(false);
    await arrived('meanwhile-3');
    expect(cluster.listener.reconnects).toBe(before + 1);
    await admin.append(event('live-again'));
    await arrived('live-again');
    for (const s of ['meanwhile-1', 'meanwhile-2', 'meanwhile-3', 'live-again'])
      expect(times(s)).toEqual([expect.objectContaining({ remote: true })]);
    expect(times('mine-meanwhile')).toEqual([{ id: mine.id, subject: 'mine-meanwhile', remote: false }]);
    const meanwhile = heard.filter((h) => h.subject?.startsWith('meanwhile-')).map((h) => h.subject);
    expect(meanwhile).toEqual(['meanwhile-1', 'meanwhile-2', 'meanwhile-3']);
  });
});
