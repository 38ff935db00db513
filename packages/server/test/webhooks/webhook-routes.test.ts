import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../support/app-fixture.js';
import { cleanupAll } from '../support/git-fixtures.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

afterAll(cleanupAll);

const hmac = (secret: string, body: string | Buffer) =>
  createHmac('sha256', secret).update(body).digest('hex');

describe('webhook route: signature first, bounded body, no app oracle', () => {
  let server: TestServer;
  let secret: string;
  let repoUrl: string;
  beforeAll(async () => {
    server = await startTestServer();
    const app = await createApp(server, 'build:\n  steps: []\n  artifact: { path: . }\n');
    repoUrl = app.bare.dir;
    secret = (await server.api<{ webhookSecret: string }>('GET', '/api/apps/shop/webhook-secret')).body
      .webhookSecret;
  });
  afterAll(async () => server.close());

  const post = (path: string, headers: Record<string, string>, body: string | Buffer) =>
    fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
  const answer = async (res: Response) => ({ status: res.status, body: await res.text() });

  function githubPush(url: string): string {
    const sha = 'a'.repeat(40);
    return JSON.stringify({
      ref: 'refs/heads/feature',
      before: sha,
      after: sha,
      repository: { clone_url: url, full_name: 'acme/shop' },
      pusher: { name: 'octocat' },
    });
  }

  it('GitHub: a body that is not JSON with a wrong signature is refused as unsigned, not parsed', async () => {
    const body = '{"not json';
    const res = await post(
      '/api/webhooks/github?app=shop',
      { 'x-github-event': 'push', 'x-hub-signature-256': `sha256=${hmac('wrong', body)}` },
      body,
    );
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ message: expect.stringContaining('signature') });
    // Signed with the right secret, the same bytes are read, and only then found not to be JSON.
    const signed = await post(
      '/api/webhooks/github?app=shop',
      { 'x-github-event': 'push', 'x-hub-signature-256': `sha256=${hmac(secret, body)}` },
      body,
    );
    expect(signed.status).toBe(400);
    expect(await signed.json()).toMatchObject({ message: expect.stringContaining('not valid JSON') });
  });

  it('GitHub: an unsigned delivery without ?app is refused before its body is read', async () => {
    const res = await post('/api/webhooks/github', { 'x-github-event': 'push' }, '[[[[');
    expect(res.status).toBe(401);
  });

  it('GitHub: a signed push is found by its repository URL and accepted', async () => {
    const body = githubPush(repoUrl);
    const res = await post(
      '/api/webhooks/github',
      { 'x-github-event': 'push', 'x-hub-signature-256': `sha256=${hmac(secret, body)}` },
      body,
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ accepted: false, reason: expect.stringContaining('feature') });
  });

  it('answers a body over 25 MB with 413 and the reason, for every provider', async () => {
    const big = Buffer.alloc(25 * 1024 * 1024 + 1, 0x20);
    for (const [provider, headers] of [
      ['github', { 'x-github-event': 'push', 'x-hub-signature-256': `sha256=${hmac(secret, big)}` }],
      ['gitlab', { 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': secret }],
      ['gitea', { 'x-gitea-event': 'push', 'x-gitea-signature': hmac(secret, big) }],
    ] as const) {
      const res = await post(`/api/webhooks/${provider}?app=shop`, headers, big);
      expect({ provider, status: res.status }).toEqual({ provider, status: 413 });
      expect(await res.json()).toMatchObject({
        error: 'PayloadTooLarge',
        message: expect.stringContaining('25 MB'),
      });
    }
  });

  it('GitHub: an unknown app gets exactly the answer of a wrong signature', async () => {
    const body = githubPush(repoUrl);
    const wrongSig = { 'x-github-event': 'push', 'x-hub-signature-256': `sha256=${hmac('nope', body)}` };
    const badSignature = await answer(await post('/api/webhooks/github?app=shop', wrongSig, body));
    const unknownApp = await answer(await post('/api/webhooks/github?app=ghost', wrongSig, body));
    const unknownRepo = await answer(
      await post('/api/webhooks/github', wrongSig, githubPush('https://example.com/ghost.git')),
    );
    expect(badSignature.status).toBe(401);
    expect(unknownApp).toEqual(badSignature);
    expect(unknownRepo).toEqual(badSignature);
    // Even the app's own secret does not tell apart an unknown app.
    const rightSig = { 'x-github-event': 'push', 'x-hub-signature-256': `sha256=${hmac(secret, body)}` };
    expect(await answer(await post('/api/webhooks/github?app=ghost', rightSig, body))).toEqual(badSignature);
  });

  it('GitLab: an unknown app gets exactly the answer of a wrong token', async () => {
    const body = JSON.stringify({ object_kind: 'push' });
    const headers = { 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': 'wrong-token' };
    const badToken = await answer(await post('/api/webhooks/gitlab?app=shop', headers, body));
    const unknownApp = await answer(await post('/api/webhooks/gitlab?app=ghost', headers, body));
    const noApp = await answer(await post('/api/webhooks/gitlab', headers, body));
    expect(badToken.status).toBe(401);
    expect(unknownApp).toEqual(badToken);
    expect(noApp).toEqual(badToken);
    const known = await post(
      '/api/webhooks/gitlab?app=ghost',
      { 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': secret },
      body,
    );
    expect(await answer(known)).toEqual(badToken);
  });

  it('Gitea: an unknown app gets exactly the answer of a wrong signature; bad JSON is not read unsigned', async () => {
    const body = '{"ref": ';
    const headers = { 'x-gitea-event': 'push', 'x-gitea-signature': hmac('wrong', body) };
    const badSignature = await answer(await post('/api/webhooks/gitea?app=shop', headers, body));
    const unknownApp = await answer(await post('/api/webhooks/gitea?app=ghost', headers, body));
    expect(badSignature.status).toBe(401);
    expect(unknownApp).toEqual(badSignature);
    const signed = await post(
      '/api/webhooks/gitea?app=shop',
      { 'x-gitea-event': 'push', 'x-gitea-signature': hmac(secret, body) },
      body,
    );
    expect(signed.status).toBe(400);
  });

  it('a signed ping is answered; an unsigned one is refused', async () => {
    const body = JSON.stringify({ zen: 'Keep it logically awesome.' });
    const signed = await post(
      '/api/webhooks/github',
      { 'x-github-event': 'ping', 'x-hub-signature-256': `sha256=${hmac(secret, body)}` },
      body,
    );
    expect(await signed.json()).toEqual({ accepted: false, reason: 'ping' });
    const unsigned = await post('/api/webhooks/github', { 'x-github-event': 'ping' }, body);
    expect(unsigned.status).toBe(401);
  });
});
