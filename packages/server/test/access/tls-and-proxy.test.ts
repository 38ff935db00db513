import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServerConfig } from '../../src/config/server-config.js';
import { cleanupAll, makeTempDir } from '../support/git-fixtures.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

afterAll(cleanupAll);

/** A self-signed certificate for 127.0.0.1, made by openssl for this test. */
async function selfSigned(dir: string): Promise<{ certFile: string; keyFile: string; cert: Buffer }> {
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  await promisify(execFile)('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
    '-keyout',
    keyFile,
    '-out',
    certFile,
  ]);
  return { certFile, keyFile, cert: await readFile(certFile) };
}

function httpsCall(
  url: string,
  ca: Buffer,
  opts: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: opts.method ?? 'GET',
        ca,
        headers: { ...(opts.body ? { 'content-type': 'application/json' } : {}), ...opts.headers },
      },
      (res) => {
        let body = '';
        res.on('data', (c) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(opts.body ? JSON.stringify(opts.body) : undefined);
  });
}

async function signIn(server: TestServer, headers: Record<string, string> = {}) {
  const res = await fetch(`${server.url}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ token: server.token }),
  });
  expect(res.status).toBe(201);
  return res.headers.get('set-cookie') ?? '';
}

describe('HTTPS and proxies', () => {
  let tlsServer: TestServer;
  let cert: Buffer;
  beforeAll(async () => {
    const files = await selfSigned(await makeTempDir('gantry-tls-'));
    cert = files.cert;
    tlsServer = await startTestServer(
      { name: 'sqlite' },
      { tls: { certFile: files.certFile, keyFile: files.keyFile } },
    );
  }, 60_000);
  afterAll(async () => tlsServer?.close());

  it('serves HTTPS with the given certificate, and its session cookies are Secure', async () => {
    expect(tlsServer.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const health = await httpsCall(`${tlsServer.url}/healthz`, cert);
    expect(health.status).toBe(200);
    const session = await httpsCall(`${tlsServer.url}/api/session`, cert, {
      method: 'POST',
      body: { token: tlsServer.token },
    });
    expect(session.status).toBe(201);
    const cookie = String(session.headers['set-cookie']);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('Secure');
    // A client that does not trust the certificate gets no answer at all.
    await expect(httpsCall(`${tlsServer.url}/healthz`, Buffer.from(''))).rejects.toThrow(/certificate/);
  });

  it('ignores X-Forwarded-* unless GANTRY_TRUST_PROXY names the proxy', async () => {
    const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.7' };
    const direct = await startTestServer({ name: 'sqlite' });
    try {
      // A client cannot claim HTTPS or an address: the cookie stays plain, the audit log has the real peer.
      expect(await signIn(direct, forwarded)).not.toContain('Secure');
      await direct.api('POST', '/api/tokens', { name: 'x', role: 'viewer' });
      const audit = await direct.api<{ entries: { ip: string }[] }>('GET', '/api/audit?limit=1');
      expect(audit.body.entries[0]?.ip).toBe('127.0.0.1');
    } finally {
      await direct.close();
    }
    const behind = await startTestServer({ name: 'sqlite' }, { trustProxy: ['127.0.0.1'] });
    try {
      expect(await signIn(behind, forwarded)).toContain('Secure');
      const res = await fetch(`${behind.url}/api/tokens`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${behind.token}`,
          'content-type': 'application/json',
          ...forwarded,
        },
        body: JSON.stringify({ name: 'y', role: 'viewer' }),
      });
      expect(res.status).toBe(201);
      const audit = await behind.api<{ entries: { ip: string }[] }>('GET', '/api/audit?limit=1');
      expect(audit.body.entries[0]?.ip).toBe('203.0.113.7');
    } finally {
      await behind.close();
    }
  });

  it('says what is wrong with the TLS and proxy settings before it starts', async () => {
    const dir = await makeTempDir('gantry-tls-bad-');
    const onlyCert = loadServerConfig({ dataDir: dir }, { GANTRY_TLS_CERT: '/x/cert.pem' });
    expect(onlyCert.errors.join('\n')).toContain('GANTRY_TLS_KEY is missing');
    const badProxy = loadServerConfig({ dataDir: dir }, { GANTRY_TRUST_PROXY: 'the-lb' });
    expect(badProxy.errors.join('\n')).toContain('GANTRY_TRUST_PROXY=the-lb');
    expect(loadServerConfig({ dataDir: dir }, { GANTRY_TRUST_PROXY: '2' }).config.trustProxy).toBe(2);
    await writeFile(join(dir, 'cert.pem'), 'not a certificate');
    await writeFile(join(dir, 'key.pem'), 'nor a key');
    await expect(
      startTestServer(
        { name: 'sqlite' },
        { tls: { certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem') } },
      ),
    ).rejects.toThrow(/GANTRY_TLS_CERT .*cert\.pem: not a PEM file/);
  });
});
