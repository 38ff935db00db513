import type { AuditEntry, AuditList, AuditVerify } from '@gantry/contracts';
import { Ajv } from 'ajv';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/features/audit/audit-log.js';
import { SqlAuditStore } from '../../src/features/audit/sql-audit-store.js';
import { engines } from '../support/engines.js';
import { cleanupAll } from '../support/git-fixtures.js';
import { startTestServer, type TestServer, waitFor } from '../support/test-server.js';

afterAll(cleanupAll);

const DAY = 86_400_000;

async function call<T>(
  server: TestServer,
  method: string,
  path: string,
  opts: { body?: unknown; token?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${opts.token ?? server.token}`,
      ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...opts.headers,
    },
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

async function entries(server: TestServer, query = ''): Promise<AuditEntry[]> {
  const res = await server.api<AuditList>('GET', `/api/audit${query}`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.entries;
}

describe.each(engines)('the audit log through the API on $name', (engine) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(engine, { auditRetentionDays: 1 });
  });
  afterAll(async () => server?.close());

  it('records mutations with who, what, where and the outcome, masks secrets, and leaves reads out', async () => {
    const hook = await call<{ id: string }>(server, 'POST', '/api/notifications/webhooks', {
      body: { url: 'https://bot:hunter2@hooks.example.com/in', secret: 'whsec-0123456789abcdef' },
      headers: { 'user-agent': 'audit-test/1.0' },
    });
    expect(hook.status, JSON.stringify(hook.body)).toBe(201);
    expect((await server.api('GET', '/api/apps')).status).toBe(200);
    // An app that does not exist: refused, and still recorded with the app it named.
    const forge = await server.api('PUT', '/api/apps/shop/forge', {
      provider: 'github',
      repo: 'acme/shop',
      token: 'ghp_secret_token_value',
    });
    expect(forge.status).toBe(404);
    expect((await server.api('DELETE', `/api/notifications/webhooks/${hook.body.id}`)).status).toBe(200);

    const [removed, put, added, ...older] = await entries(server);
    expect(added).toMatchObject({
      actor: 'token:admin',
      principal: { kind: 'token', name: 'admin', role: 'admin' },
      method: 'POST',
      route: '/api/notifications/webhooks',
      status: 201,
      ip: '127.0.0.1',
      userAgent: 'audit-test/1.0',
      body: { url: 'https://bot:***@hooks.example.com/in', secret: '***' },
    });
    expect(added!.requestId).toBeTruthy();
    expect(put).toMatchObject({
      method: 'PUT',
      route: '/api/apps/:app/forge',
      params: { app: 'shop' },
      app: 'shop',
      status: 404,
      body: { provider: 'github', repo: 'acme/shop', token: '***' },
    });
    expect(removed).toMatchObject({
      method: 'DELETE',
      route: '/api/notifications/webhooks/:id',
      params: { id: hook.body.id },
      status: 200,
    });
    expect(older).toEqual([]);
    const all = JSON.stringify(await entries(server));
    expect(all).not.toMatch(/hunter2|whsec-0123|ghp_secret/);
    expect(all).not.toContain('"GET"');

    expect((await entries(server, '?app=shop')).map((e) => e.seq)).toEqual([put!.seq]);
    expect((await entries(server, '?actor=admin&limit=1')).map((e) => e.seq)).toEqual([removed!.seq]);
    expect(await entries(server, '?since=1m')).toHaveLength(3);
    expect(await entries(server, `?until=${encodeURIComponent(added!.at)}`)).toHaveLength(0);
    const bad = await server.api<{ message: string }>('GET', '/api/audit?since=yesterday');
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('"yesterday" is not a time: give an age such as 30m');
  });

  it('records a refused request with the principal that tried', async () => {
    const created = await server.api<{ token: string }>('POST', '/api/tokens', {
      name: 'dashboards',
      role: 'metrics',
    });
    expect(created.status).toBe(201);
    const refused = await call(server, 'POST', '/api/tokens', {
      token: created.body.token,
      body: { name: 'escalate', role: 'admin' },
    });
    expect(refused.status).toBe(403);
    const [entry] = await entries(server, '?limit=1');
    expect(entry).toMatchObject({
      method: 'POST',
      route: '/api/tokens',
      status: 403,
      // Refused once its body was read (the permission depends on where it acts): what it tried.
      body: { name: 'escalate', role: 'admin' },
    });
    expect(entry!.actor).toContain('dashboards');
    expect(entry!.principal).toMatchObject({ name: 'dashboards' });
    // Only people allowed to read the log read it.
    const read = await call(server, 'GET', '/api/audit', { token: created.body.token });
    expect(read.status).toBe(403);
  });

  it('keeps one chain under concurrent mutations, and documents its routes', async () => {
    const before = (await server.api<AuditVerify>('POST', '/api/audit/verify')).body;
    expect(before.ok).toBe(true);
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        server.api('POST', '/api/tokens', { name: `ci-${i}`, role: 'metrics' }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(results.map(() => 201));
    const after = (await server.api<AuditVerify>('POST', '/api/audit/verify')).body;
    expect(after).toMatchObject({ ok: true, firstBroken: null, anchor: { seq: 0 } });
    // Verifying reads only: it is not recorded.
    expect(after.head.seq).toBe(before.head.seq + 30);
    const names = (await entries(server, '?limit=30')).map((e) => (e.body as { name: string }).name);
    expect(new Set(names)).toEqual(new Set(results.map((_, i) => `ci-${i}`)));

    // The document describes the real answers.
    type Op = { responses: Record<string, { content: Record<string, { schema: object }> }> };
    const doc = (await server.api<{ paths: Record<string, Record<string, Op>> }>('GET', '/api/openapi.json'))
      .body;
    const schemaOf = (path: string, method: string) =>
      doc.paths[path]?.[method]?.responses['200']?.content['application/json']?.schema;
    const ajv = new Ajv({ strict: false, allErrors: true });
    const list = (await server.api('GET', '/api/audit?limit=5')).body;
    const validList = ajv.compile(schemaOf('/api/audit', 'get')!);
    expect(validList(list), ajv.errorsText(validList.errors)).toBe(true);
    const validVerify = ajv.compile(schemaOf('/api/audit/verify', 'post')!);
    expect(validVerify(after), ajv.errorsText(validVerify.errors)).toBe(true);
    expect(validVerify({ ...after, ok: false, firstBroken: { seq: 3, at: null, why: 'x' } })).toBe(true);
  });

  it('prunes past the retention and verifies after; names a row edited by hand', async () => {
    const db = server.gantry.database.db;
    const head = (await server.api<AuditVerify>('POST', '/api/audit/verify')).body.head;
    // Another server's hourly pruning, two days from now: every row is past GANTRY_AUDIT_RETENTION=1.
    const later = new AuditLog({
      store: new SqlAuditStore(db),
      logger: pino({ level: 'silent' }),
      retentionDays: server.gantry.config.auditRetentionDays,
      now: () => Date.now() + 2 * DAY,
    });
    expect(await later.prune()).toEqual({ removed: head.seq });
    const v = (await server.api<AuditVerify>('POST', '/api/audit/verify')).body;
    expect(v).toMatchObject({ ok: true, rows: 1, anchor: head, head: { seq: head.seq + 1 } });
    const [pruned] = await entries(server);
    expect(pruned).toMatchObject({
      actor: 'gantry:retention',
      route: 'audit.prune',
      body: { removed: head.seq },
    });

    expect((await server.api('POST', '/api/tokens', { name: 'after-prune', role: 'metrics' })).status).toBe(
      201,
    );
    expect((await server.api('POST', '/api/tokens', { name: 'edited', role: 'metrics' })).status).toBe(201);
    const [edited] = await entries(server, '?limit=1');
    await db
      .updateTable('audit_log')
      .set({ actor: 'token:someone-else' })
      .where('seq', '=', edited!.seq)
      .execute();
    const broken = (await server.api<AuditVerify>('POST', '/api/audit/verify')).body;
    expect(broken).toMatchObject({ ok: false, firstBroken: { seq: edited!.seq, at: edited!.at } });
    expect(broken.firstBroken!.why).toMatch(/changed after it was written/);
  });
});

describe.each(engines)('a failing audit write on $name', (engine) => {
  let server: TestServer;
  const lines: string[] = [];
  beforeAll(async () => {
    const logger = pino({ level: 'error' }, { write: (line: string) => void lines.push(line) });
    server = await startTestServer(engine, {}, logger);
  });
  afterAll(async () => server?.close());

  it('does not fail the mutation, and says so loudly in the server log with the record', async () => {
    await server.gantry.database.db.deleteFrom('audit_head').execute();
    const res = await server.api('POST', '/api/tokens', { name: 'unrecorded', role: 'metrics' });
    expect(res.status).toBe(201);
    const line = await waitFor(
      async () => lines.find((l) => l.includes('audit: could not record')),
      'the error',
    );
    const logged = JSON.parse(line) as { level: number; msg: string; audit: { body: { name: string } } };
    expect(logged.level).toBe(50);
    expect(logged.msg).toContain('could not record POST /api/tokens by token:admin (status 201)');
    expect(logged.audit.body.name).toBe('unrecorded');
  });
});
