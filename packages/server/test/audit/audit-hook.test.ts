import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { auditChange } from '../../src/features/audit/audit-change.js';
import { auditRecordOf } from '../../src/features/audit/audit-hook.js';
import type { AuditRecord } from '../../src/features/audit/audit-record.js';

/** A real Fastify app with the audit hook's recording and a few kinds of routes. */
async function app() {
  const records: AuditRecord[] = [];
  const f = Fastify();
  f.addHook('onRequest', async (req) => {
    // What the auth feature puts there for a person signed in (whatever else its Principal holds).
    Object.assign(req, {
      principal: {
        kind: 'user',
        name: 'ana',
        role: 'user',
        userId: 'usr_1',
        tokenId: null,
        appId: null,
        env: null,
        groups: ['release-team'],
        bindings: [
          { role: 'viewer', app: null, env: null },
          { role: 'release-manager', app: 'shop', env: 'production' },
        ],
      },
    });
  });
  f.addHook('onResponse', async (req, reply) => {
    const r = auditRecordOf(req, reply.statusCode, '2026-03-01T00:00:00.000Z');
    if (r) records.push(r);
  });
  f.put('/toggles/:app/:name', async (req) => {
    auditChange(req, { before: { enabled: false, clientSecret: 'old' } });
    auditChange(req, { after: { enabled: true, clientSecret: 'new' } });
    return { ok: true };
  });
  f.post('/ofrep/evaluate', { config: { access: 'client' } as object }, async () => ({ value: true }));
  f.post('/check', { config: { audit: false } }, async () => ({ ok: true }));
  f.get('/things', async () => []);
  await f.ready();
  return { f, records };
}

describe('what the audit hook records of a request', () => {
  it("keeps a route's before and after (masked), the person with their roles and groups, and where it acted", async () => {
    const { f, records } = await app();
    const res = await f.inject({
      method: 'PUT',
      url: '/toggles/shop/checkout?env=production&token=abc',
      payload: { env: 'production', password: 'p' },
      headers: { 'user-agent': 'curl/8' },
    });
    expect(res.statusCode).toBe(200);
    expect(records).toEqual([
      {
        at: '2026-03-01T00:00:00.000Z',
        actor: expect.stringContaining('ana'),
        principal: {
          kind: 'user',
          name: 'ana',
          role: 'user',
          userId: 'usr_1',
          tokenId: null,
          groups: ['release-team'],
          roles: ['viewer', 'release-manager@shop/production'],
        },
        method: 'PUT',
        route: '/toggles/:app/:name',
        params: { app: 'shop', name: 'checkout' },
        query: { env: 'production', token: '***' },
        app: 'shop',
        env: 'production',
        ip: '127.0.0.1',
        userAgent: 'curl/8',
        requestId: expect.any(String),
        status: 200,
        body: { env: 'production', password: '***' },
        before: { enabled: false, clientSecret: '***' },
        after: { enabled: true, clientSecret: '***' },
      },
    ]);
  });

  it('leaves out reads, SDK traffic, routes that opt out and paths that match no route', async () => {
    const { f, records } = await app();
    for (const [method, url] of [
      ['GET', '/things'],
      ['POST', '/ofrep/evaluate'],
      ['POST', '/check'],
      ['DELETE', '/nothing-here'],
    ] as const) {
      await f.inject({ method, url });
    }
    expect(records).toEqual([]);
  });
});
