import type { Unleash } from 'unleash-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventOrigin } from '../../src/events/event-bus.js';
import { createApp, yamlWithSteps } from '../support/app-fixture.js';
import { cleanupAll } from '../support/git-fixtures.js';
import { waitFor } from '../support/test-server.js';
import { clientToken, eventually, startSdk } from '../toggles/client-api/client-api-fixture.js';
import { pgUrl, readStream, type ServerGroup, startServerGroup } from './cluster-fixture.js';

afterAll(cleanupAll);

/**
 * Three real servers on one PostgreSQL schema. Their toggle revision poll is a minute (the fallback
 * when a notification is lost), so whatever another server's change reaches within these tests came
 * by LISTEN/NOTIFY.
 */
describe.runIf(pgUrl)('three servers on one PostgreSQL', () => {
  let group: ServerGroup;
  const heard: { server: number; id: number; type: string; remote: boolean }[][] = [[], [], []];
  const sdks: Unleash[] = [];

  beforeAll(async () => {
    group = await startServerGroup(pgUrl!, 3, { toggleRevisionPollMs: 60_000 });
    group.servers.forEach((s, i) => {
      s.gantry.bus.subscribe((e, o: EventOrigin) =>
        heard[i]!.push({ server: i, id: e.id, type: e.type, remote: o.remote }),
      );
    });
    await createApp(group.servers[0]!, yamlWithSteps(['true']));
  });
  afterAll(async () => {
    for (const s of sdks.splice(0)) s.destroy();
    await group?.close();
  });

  const [A, B, C] = [0, 1, 2];
  const server = (i: number) => group.servers[i]!;
  const times = (i: number, id: number) => heard[i]!.filter((h) => h.id === id);

  it("publishes an event appended on one server on every other server's bus once, and streams it there", async () => {
    const stream = readStream(`${server(B).url}/api/events/stream`, {
      authorization: `Bearer ${server(B).token}`,
    });
    await stream.opened;
    const made = await server(A).api<{ id: string }>('POST', '/api/tokens', { name: 'ci', role: 'viewer' });
    expect(made.status).toBe(201);
    const seen = await waitFor(
      async () =>
        stream.events.find((e) => e.event === 'token.created' && JSON.parse(e.data).subject === made.body.id),
      "the token.created event on B's stream",
    );
    const id = Number(seen.id);
    await waitFor(async () => (times(C, id).length ? true : undefined), 'the event on C');
    expect(times(A, id)).toEqual([{ server: A, id, type: 'token.created', remote: false }]);
    expect(times(B, id)).toEqual([{ server: B, id, type: 'token.created', remote: true }]);
    expect(times(C, id)).toEqual([{ server: C, id, type: 'token.created', remote: true }]);
    stream.close();
  });

  it('a toggle changed on one server reaches SDKs connected to the others (streaming, polling, delta)', async () => {
    await server(A).api('POST', '/api/apps/shop/toggles', { name: 'live' });
    const put = async (i: number, state: Record<string, unknown>) => {
      const res = await server(i).api('PUT', '/api/apps/shop/toggles/live/environments/production', state);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    };
    await put(A, { enabled: false, strategies: [{ name: 'default' }] });
    const token = await clientToken(server(A), 'shop', 'production');
    const streaming = await startSdk(server(B), token, { streaming: true, disableMetrics: true });
    const polling = await startSdk(server(C), token, { refreshInterval: 100, disableMetrics: true });
    const delta = await startSdk(server(C), token, {
      refreshInterval: 100,
      disableMetrics: true,
      delta: true,
    });
    sdks.push(streaming, polling, delta);
    const all = [streaming, polling, delta];
    expect(all.map((s) => s.isEnabled('live'))).toEqual([false, false, false]);

    await put(A, { enabled: true });
    await eventually(() => all.every((s) => s.isEnabled('live')), 'every SDK to see the change', 10_000);

    // And back, from another server: every server's per-revision caches moved on.
    await put(C, { enabled: false });
    await eventually(() => all.every((s) => !s.isEnabled('live')), 'every SDK to see it off', 10_000);
    const app = await server(A).gantry.apps.get('shop');
    const revision = await server(A).gantry.toggles.readStore().revision(app.id, 'production');
    for (const i of [A, B, C])
      expect(server(i).gantry.clientApi.watcher.current(app.id, 'production')).toBe(revision);
  });

  it('a token revoked on one server closes its event stream on another, and that server refuses it at once', async () => {
    const made = await server(A).api<{ id: string; token: string }>('POST', '/api/tokens', {
      name: 'watcher',
      role: 'viewer',
    });
    const headers = { authorization: `Bearer ${made.body.token}` };
    const stream = readStream(`${server(B).url}/api/events/stream`, headers);
    await stream.opened;
    // B has just looked the token up: its cache would let it in for a few seconds more.
    expect((await fetch(`${server(B).url}/api/apps`, { headers })).status).toBe(200);
    expect((await server(A).api('DELETE', `/api/tokens/${made.body.id}`)).status).toBe(204);
    await waitFor(async () => (stream.ended ? true : undefined), "the revoked token's stream on B to close");
    expect((await fetch(`${server(B).url}/api/apps`, { headers })).status).toBe(401);
  });

  it('counts failed sign-ins across servers', async () => {
    await server(A).api('POST', '/api/users', { login: 'carol', password: 'carols long password' });
    await server(A).api('POST', '/api/role-bindings', { subject: 'user:carol', role: 'viewer' });
    const signIn = (i: number, password: string) =>
      fetch(`${server(i).url}/api/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ login: 'carol', password }),
      });
    for (const i of [A, B, C, A, B]) expect((await signIn(i, 'wrong')).status).toBe(401);
    const limited = await signIn(C, 'carols long password');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('catches up after its LISTEN connection was killed: events appended meanwhile arrive once', async () => {
    const cluster = server(B).gantry.cluster!;
    const before = cluster.listener.reconnects;
    const missed: number[] = [];
    // Kill B's listener and append while it is down (B in this process tells when it noticed); should
    // B be back before an append committed, kill it again.
    for (let attempt = 0; missed.length === 0 && attempt < 5; attempt++) {
      const reconnects = cluster.listener.reconnects;
      await group.admin.query('SELECT pg_terminate_backend($1)', [cluster.listener.pid]);
      await waitFor(
        async () =>
          !cluster.listener.listening || cluster.listener.reconnects !== reconnects ? true : undefined,
        "B to notice its listener's end",
      );
      if (cluster.listener.listening) continue;
      const made = await server(A).api<{ id: string }>('POST', '/api/tokens', {
        name: `gap-${attempt}`,
        role: 'viewer',
      });
      const { rows } = await group.admin.query<{ id: string }>(
        `INSERT INTO events (type, app_id, subject, actor, data, created_at)
         VALUES ('tag.seen', NULL, 'by-hand', 'test', '{}', now()::text) RETURNING id`,
      );
      if (cluster.listener.reconnects !== reconnects || cluster.listener.listening) continue;
      const viaApi = (
        await server(A).gantry.events.list({ subject: made.body.id, types: ['token.created'] })
      )[0]!;
      missed.push(viaApi.id, Number(rows[0]!.id));
    }
    expect(missed).toHaveLength(2);
    await waitFor(
      async () => (missed.every((id) => times(B, id).length) ? true : undefined),
      'B to catch up',
    );
    expect(cluster.listener.reconnects).toBeGreaterThan(before);
    // Then live again: the next event comes by notification; nothing came twice.
    const after = await server(C).api<{ id: string }>('POST', '/api/tokens', {
      name: 'after',
      role: 'viewer',
    });
    const next = (
      await server(C).gantry.events.list({ subject: after.body.id, types: ['token.created'] })
    )[0]!;
    await waitFor(async () => (times(B, next.id).length ? true : undefined), 'the next event on B');
    for (const id of [...missed, next.id]) expect(times(B, id)).toHaveLength(1);
    expect(times(B, missed[1]!)[0]).toMatchObject({ type: 'tag.seen', remote: true });
    const ids = heard[B]!.map((h) => h.id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
