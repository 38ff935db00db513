import type { AuditVerify } from '@gantry/contracts';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { AuditLog } from '../../src/features/audit/audit-log.js';
import type { AuditRecord } from '../../src/features/audit/audit-record.js';
import { SqlAuditStore } from '../../src/features/audit/sql-audit-store.js';
import { engines } from '../support/engines.js';
import { cleanupAll } from '../support/git-fixtures.js';
import { openTestDatabase } from '../support/test-database.js';

const DAY = 86_400_000;
const T0 = Date.parse('2026-03-01T00:00:00.000Z');

function rec(i: number, over: Partial<AuditRecord> = {}): AuditRecord {
  return {
    at: new Date(T0 + i * 1000).toISOString(),
    actor: `token:ci-${i % 3}`,
    principal: {
      kind: 'token',
      name: `ci-${i % 3}`,
      role: 'deployer',
      userId: null,
      tokenId: `tok_${i % 3}`,
      groups: [],
      roles: ['deployer@shop/production'],
    },
    method: 'POST',
    route: '/api/apps/:app/deploy',
    params: { app: 'shop' },
    query: null,
    app: 'shop',
    env: 'production',
    ip: '127.0.0.1',
    userAgent: 'test',
    requestId: `req-${i}`,
    status: 202,
    body: { env: 'production', sha: `sha-${i}` },
    before: undefined,
    after: undefined,
    ...over,
  };
}

const silent = pino({ level: 'silent' });
const open: { close(): Promise<void> }[] = [];

afterEach(async () => {
  for (const d of open.splice(0)) await d.close();
});

async function fixture(
  engine: (typeof engines)[number],
  opts: { rows?: number; retentionDays?: number; now?: number } = {},
) {
  const database = await openTestDatabase(engine);
  open.push(database);
  const log = new AuditLog({
    store: new SqlAuditStore(database.db),
    logger: silent,
    retentionDays: opts.retentionDays ?? 365,
    now: () => opts.now ?? T0 + DAY,
  });
  for (let i = 1; i <= (opts.rows ?? 0); i++) log.record(rec(i));
  await log.flush();
  return { database, db: database.db, log };
}

describe.each(engines)('the audit chain on $name', (engine) => {
  afterEach(async () => cleanupAll());

  it('chains rows in order, lists them newest first with filters and pages, and verifies', async () => {
    const { log } = await fixture(engine, { rows: 12 });
    log.record(rec(13, { app: 'blog', env: 'qa', actor: 'user:ana', principal: null }));
    const page1 = await log.list({ limit: 5 });
    expect(page1.entries.map((e) => e.seq)).toEqual([13, 12, 11, 10, 9]);
    expect(page1.next).toBe(9);
    const page3 = await log.list({ limit: 5, before: 4 });
    expect(page3.entries.map((e) => e.seq)).toEqual([3, 2, 1]);
    expect(page3.next).toBeNull();
    expect(page1.entries[1]!.prevHash).toBe(page1.entries[2]!.hash);
    expect((await log.list({ apps: ['blog'] })).entries.map((e) => e.seq)).toEqual([13]);
    expect((await log.list({ env: 'qa' })).entries.map((e) => e.seq)).toEqual([13]);
    expect((await log.list({ actor: 'ana' })).entries).toHaveLength(0);
    expect((await log.list({ actor: 'user:ana' })).entries.map((e) => e.seq)).toEqual([13]);
    expect((await log.list({ actor: 'ci-1' })).entries.map((e) => e.seq)).toEqual([10, 7, 4, 1]);
    const since = new Date(T0 + 10_000).toISOString();
    const until = new Date(T0 + 12_000).toISOString();
    expect((await log.list({ since, until })).entries.map((e) => e.seq)).toEqual([11, 10]);
    const v = await log.verify();
    expect(v).toMatchObject({ ok: true, rows: 13, firstBroken: null, anchor: { seq: 0 }, head: { seq: 13 } });
    expect(v.head.hash).toBe(page1.entries[0]!.hash);
  });

  it('keeps one chain when two writers append at once (on PostgreSQL: two servers, each with its own connections)', async () => {
    const { database, log } = await fixture(engine);
    // better-sqlite3 blocks its thread while it waits for a lock, so two handles on one SQLite file
    // in one process would wait on each other; several servers need PostgreSQL anyway.
    const other = engine.name === 'postgres' ? await openTestDatabaseAgain(database) : database;
    const second = new AuditLog({ store: new SqlAuditStore(other.db), logger: silent, retentionDays: 365 });
    const stores = [new SqlAuditStore(database.db), new SqlAuditStore(other.db)];
    // Direct appends race for the head's lock; each call is its own transaction.
    await Promise.all(
      Array.from({ length: 60 }, (_, i) => stores[i % 2]!.append([rec(i, { requestId: `r${i}` })])),
    );
    for (let i = 0; i < 40; i++) (i % 2 ? log : second).record(rec(100 + i));
    await Promise.all([log.flush(), second.flush()]);
    const v = await log.verify();
    expect(v).toMatchObject({ ok: true, rows: 100, head: { seq: 100 } });
    const ids = (await log.list({ limit: 1000 })).entries.map((e) => e.requestId);
    expect(new Set(ids).size).toBe(100);
  });

  it.each([
    [
      'a changed field',
      async (db: Database['db']) =>
        void (await db.updateTable('audit_log').set({ status: 200 }).where('seq', '=', 5).execute()),
      5,
      /hash does not match its content/,
    ],
    [
      'a changed body',
      async (db: Database['db']) =>
        void (await db.updateTable('audit_log').set({ body: '{"env":"qa"}' }).where('seq', '=', 7).execute()),
      7,
      /changed after it was written/,
    ],
    [
      'a deleted row',
      async (db: Database['db']) => void (await db.deleteFrom('audit_log').where('seq', '=', 4).execute()),
      4,
      /row 4 is missing: row 5 follows row 3/,
    ],
    [
      'two swapped rows',
      async (db: Database['db']) => {
        // Everything but seq moves: row 6 now holds what was written as row 7, and row 7 row 6's.
        const [a, b] = await db
          .selectFrom('audit_log')
          .selectAll()
          .where('seq', 'in', [6, 7])
          .orderBy('seq')
          .execute();
        const { seq: _a, ...restA } = a!;
        const { seq: _b, ...restB } = b!;
        await db.updateTable('audit_log').set(restB).where('seq', '=', 6).execute();
        await db.updateTable('audit_log').set(restA).where('seq', '=', 7).execute();
      },
      6,
      /rows were reordered/,
    ],
    [
      'a row whose hash was recomputed after a change',
      async (db: Database['db']) => {
        const { rowHash } = await import('../../src/features/audit/audit-chain.js');
        const row = await db
          .selectFrom('audit_log')
          .selectAll()
          .where('seq', '=', 3)
          .executeTakeFirstOrThrow();
        const { hash: _h, ...changed } = { ...row, actor: 'token:someone-else' };
        await db
          .updateTable('audit_log')
          .set({ actor: changed.actor, hash: rowHash(changed) })
          .where('seq', '=', 3)
          .execute();
      },
      4,
      /not the hash of row 3 .*row 3's hash was rewritten/,
    ],
    [
      'the last row deleted',
      async (db: Database['db']) => void (await db.deleteFrom('audit_log').where('seq', '=', 10).execute()),
      10,
      /row 10, the last one written, is missing/,
    ],
    [
      'the first rows deleted and the anchor moved by hand',
      async (db: Database['db']) => {
        const row = await db
          .selectFrom('audit_log')
          .select(['hash'])
          .where('seq', '=', 2)
          .executeTakeFirstOrThrow();
        await db.deleteFrom('audit_log').where('seq', '<=', 2).execute();
        await db.updateTable('audit_head').set({ anchor_seq: 2, anchor_hash: row.hash }).execute();
      },
      1,
      /no pruning recorded in it removed rows up to there: rows 1…2 were deleted/,
    ],
  ])('names the first broken row for %s', async (_what, tamper, seq, why) => {
    const { db, log } = await fixture(engine, { rows: 10 });
    expect((await log.verify()).ok).toBe(true);
    await tamper(db);
    const v: AuditVerify = await log.verify();
    expect(v.ok).toBe(false);
    expect(v.firstBroken, JSON.stringify(v)).toMatchObject({ seq });
    expect(v.firstBroken!.why).toMatch(why);
  });

  it('prunes rows past the retention, records it, and still verifies; refuses to prune a broken stretch', async () => {
    // Rows 1…6 written 40 days before "now", rows 7…10 an hour before.
    const now = T0 + 40 * DAY;
    const { db, log } = await fixture(engine, { retentionDays: 30, now });
    for (let i = 1; i <= 10; i++) {
      log.record(rec(i, { at: new Date(i <= 6 ? T0 + i : now - 3_600_000 + i).toISOString() }));
    }
    expect(await log.prune()).toEqual({ removed: 6 });
    const v = await log.verify();
    expect(v).toMatchObject({ ok: true, rows: 5, anchor: { seq: 6 }, head: { seq: 11 } });
    const [prune] = (await log.list({ limit: 1 })).entries;
    expect(prune).toMatchObject({
      seq: 11,
      actor: 'gantry:retention',
      method: 'SYSTEM',
      route: 'audit.prune',
      body: { removed: 6, retentionDays: 30, anchor: { seq: 6, hash: v.anchor.hash } },
    });
    expect(await log.prune()).toEqual({ removed: 0 });
    expect((await log.verify()).rows).toBe(5);

    // A forged anchor that no pruning recorded is caught even after a real pruning.
    const row8 = await db
      .selectFrom('audit_log')
      .select('hash')
      .where('seq', '=', 8)
      .executeTakeFirstOrThrow();
    await db.deleteFrom('audit_log').where('seq', '<=', 8).execute();
    await db.updateTable('audit_head').set({ anchor_seq: 8, anchor_hash: row8.hash }).execute();
    expect((await log.verify()).firstBroken).toMatchObject({
      seq: 7,
      why: expect.stringMatching(/rows 7…8 were deleted/),
    });

    // Rows due for pruning that do not check out stay, as evidence.
    const later = await fixture(engine, { retentionDays: 30, now });
    for (let i = 1; i <= 4; i++) later.log.record(rec(i));
    await later.log.flush();
    await later.db.updateTable('audit_log').set({ status: 500 }).where('seq', '=', 2).execute();
    expect(await later.log.prune()).toEqual({ removed: 0 });
    const left = await later.db.selectFrom('audit_log').select('seq').orderBy('seq').execute();
    expect(left.map((r) => Number(r.seq))).toEqual([1, 2, 3, 4]);
    expect((await later.log.verify()).firstBroken).toMatchObject({ seq: 2 });
  });

  it('masks secret-looking fields and credentials in URLs before storing them', async () => {
    const { log } = await fixture(engine);
    log.record(
      rec(1, {
        body: {
          url: 'https://bot:hunter2@hooks.example.com/x',
          secret: 'whsec-1',
          nested: [{ password: 'p', clientSecret: 'c', apiToken: 't', value: 'v', name: 'kept' }],
          cleared: { token: null },
        },
        before: { token: 'old' },
        after: { token: 'new', repo: 'a/b' },
      }),
    );
    const [e] = (await log.list({})).entries;
    expect(e!.body).toEqual({
      url: 'https://bot:***@hooks.example.com/x',
      secret: '***',
      nested: [{ password: '***', clientSecret: '***', apiToken: '***', value: '***', name: 'kept' }],
      cleared: { token: null },
    });
    expect(e!.before).toEqual({ token: '***' });
    expect(e!.after).toEqual({ token: '***', repo: 'a/b' });
    expect(JSON.stringify(e)).not.toMatch(/hunter2|whsec-1/);
  });
});

/** A second, independent handle on the same database: what another server would hold. */
async function openTestDatabaseAgain(database: Awaited<ReturnType<typeof openTestDatabase>>) {
  const other = await database.reopen();
  open.push(other);
  return other;
}
