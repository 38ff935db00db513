import type { NewEvent } from '@gantry/contracts';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EventFollower, HOLD_MS } from '../../src/events/event-follower.js';
import { SqlEventStore } from '../../src/events/sql-event-store.js';
import { engines } from '../support/engines.js';
import { cleanupAll } from '../support/git-fixtures.js';
import { openTestDatabase } from '../support/test-database.js';
import { startTestServer, type TestServer, waitFor } from '../support/test-server.js';
import { pgUrl, readStream } from './cluster-fixture.js';

afterAll(cleanupAll);

const event = (subject: string, appId: string | null = null): NewEvent => ({
  type: 'tag.seen',
  appId,
  subject,
  actor: 'test',
  data: {},
});

describe.each(engines)('following the event log on $name', (engine) => {
  let database: Awaited<ReturnType<typeof openTestDatabase>>;
  beforeAll(async () => {
    database = await openTestDatabase(engine);
  });
  afterAll(async () => database?.close());

  it('waits at a missing id before a recent event, passes it once that event is old, and filters after', async () => {
    const store = new SqlEventStore(database.db);
    const start = await store.lastId();
    const a = await store.append(event('a', 'app_1'));
    const gone = await store.append(event('gone'));
    const b = await store.append(event('b', 'app_2'));
    const c = await store.append(event('c', 'app_1'));
    // A gap in the ids, as a transaction that took an id and has not committed (or rolled back) leaves.
    await database.db.deleteFrom('events').where('id', '=', gone.id).execute();
    let now = Date.parse(b.createdAt);
    const follow = new EventFollower(store, start, { appId: 'app_1' }, () => now);
    const first = await follow.next(10);
    expect(first.events.map((e) => e.subject)).toEqual(['a']);
    expect(first.heldMs).toBeGreaterThan(0);
    expect(follow.after).toBe(a.id);
    now += HOLD_MS;
    const second = await follow.next(10);
    expect(second.events.map((e) => e.subject)).toEqual(['c']);
    expect(second).toMatchObject({ more: false, heldMs: 0 });
    expect(follow.after).toBe(c.id);
    // A full batch says to read again at once.
    for (const s of ['d', 'e', 'f']) await store.append(event(s, 'app_1'));
    expect(await follow.next(2)).toMatchObject({ more: true, heldMs: 0 });
  });
});

/**
 * A real server's `/api/events/stream`, with a transaction that took an id and commits after a later
 * event did (what two servers appending at once do all the time).
 */
describe.runIf(pgUrl)('the event stream on PostgreSQL', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ name: 'postgres', url: pgUrl });
  });
  afterAll(async () => server?.close());

  it('sends an event committed after a later one, in id order, and passes an id rolled back', async () => {
    const stream = readStream(`${server.url}/api/events/stream`, { authorization: `Bearer ${server.token}` });
    await stream.opened;
    const ours = () => stream.events.filter((e) => e.event === 'tag.seen');
    const subjects = () => ours().map((e) => JSON.parse(e.data).subject as string);
    let commit!: () => void;
    const gate = new Promise<void>((r) => {
      commit = r;
    });
    let taken = 0;
    const slow = server.gantry.database.db.transaction().execute(async (trx) => {
      taken = (await new SqlEventStore(trx).append(event('committed-late'))).id;
      await gate;
    });
    await waitFor(async () => (taken ? true : undefined), 'the transaction to take its id');
    // Commit only once the stream has read the later event (which it must not send yet).
    const store = server.gantry.events;
    const list = store.list.bind(store);
    let streamRead = false;
    const spy = vi.spyOn(store, 'list').mockImplementation(async (q) => {
      const rows = await list(q);
      streamRead ||= rows.some((e) => e.subject === 'committed-early');
      return rows;
    });
    const early = await store.append(event('committed-early'));
    expect(early.id).toBeGreaterThan(taken);
    await waitFor(async () => (streamRead ? true : undefined), 'the stream to read the later event');
    spy.mockRestore();
    expect(subjects()).toEqual([]);
    commit();
    await slow;
    await waitFor(async () => (subjects().includes('committed-early') ? true : undefined), 'both events');
    expect(subjects()).toEqual(['committed-late', 'committed-early']);
    expect(ours().map((e) => Number(e.id))).toEqual([taken, early.id]);

    const burnt = await server.gantry.database.db
      .transaction()
      .execute(async (trx) => {
        const e = await new SqlEventStore(trx).append(event('rolled-back'));
        throw Object.assign(new Error('roll back'), { id: e.id });
      })
      .catch((err: { id: number }) => err.id);
    const after = await server.gantry.events.append(event('after-the-rollback'));
    expect(after.id).toBeGreaterThan(burnt);
    await waitFor(
      async () => (subjects().includes('after-the-rollback') ? true : undefined),
      'the stream to go on',
    );
    expect(subjects()).toEqual(['committed-late', 'committed-early', 'after-the-rollback']);
    stream.close();
  });
});
