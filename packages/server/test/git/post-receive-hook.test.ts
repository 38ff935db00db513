import { execFile } from 'node:child_process';
import { chmod, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidInput } from '../../src/errors.js';
import { installPostReceiveHook, renderPostReceiveHook } from '../../src/git/post-receive-hook.js';
import { cleanupAll, createBareRepo, createWorkClone, git, makeTempDir } from '../support/git-fixtures.js';

afterAll(cleanupAll);

const ZERO = '0'.repeat(40);

interface Received {
  url: string | undefined;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

async function startServer() {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let data = '';
    req.on('data', (chunk: Buffer) => {
      data += chunk.toString();
    });
    req.on('end', () => {
      received.push({
        url: req.url,
        headers: req.headers,
        body: JSON.parse(data) as Record<string, unknown>,
      });
      res.writeHead(202, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return { url: `http://127.0.0.1:${port}`, received, close };
}

async function unusedUrl(): Promise<string> {
  const { url, close } = await startServer();
  await close();
  return url;
}

describe('post-receive hook', () => {
  it('renders a valid POSIX sh script', async () => {
    const dir = await makeTempDir();
    const file = join(dir, 'hook');
    await writeFile(
      file,
      renderPostReceiveHook({ serverUrl: 'http://x:1/', app: 'it\'s "odd"', token: "t'k" }),
    );
    await expect(promisify(execFile)('sh', ['-n', file])).resolves.toBeDefined();
    expect(() => renderPostReceiveHook({ serverUrl: 'ftp://x', app: 'a' })).toThrow(InvalidInput);
  });

  it('notifies the server of each pushed ref with before, after, ref and the token', async () => {
    const server = await startServer();
    const bare = await createBareRepo();
    const installed = await installPostReceiveHook(bare.dir, {
      serverUrl: server.url,
      app: 'shop',
      token: 's3cret',
    });
    expect(installed).toMatchObject({
      hookPath: join(bare.dir, 'hooks', 'post-receive'),
      preservedHook: null,
    });
    const work = await createWorkClone(bare.url);

    const first = await work.commit('first');
    const push1 = await work.push();
    const url = `${server.url}/api/hooks/git`;
    expect(push1.stderr).toContain(
      `remote: gantry: notified ${url} of refs/heads/main -> ${first.slice(0, 7)}`,
    );
    const second = await work.commit('second');
    await work.tag('v1');
    await work.run(['push', '--quiet', 'origin', 'main', 'v1']);
    await server.close();

    expect(server.received).toHaveLength(3);
    const [r1, r2, r3] = server.received as [Received, Received, Received];
    expect(r1.url).toBe('/api/hooks/git');
    expect(r1.headers.authorization).toBe('Bearer s3cret');
    expect(r1.headers['content-type']).toBe('application/json');
    expect(r1.body).toEqual({
      app: 'shop',
      ref: 'refs/heads/main',
      before: ZERO,
      after: first,
      pusher: expect.any(String),
    });
    const later = [r2.body, r3.body].sort((x, y) => String(x.ref).localeCompare(String(y.ref)));
    expect(later[0]).toMatchObject({ ref: 'refs/heads/main', before: first, after: second });
    expect(later[1]).toMatchObject({ ref: 'refs/tags/v1', before: ZERO, after: second });
  });

  it('never fails the push when the server is down', async () => {
    const url = await unusedUrl();
    const bare = await createBareRepo();
    await installPostReceiveHook(bare.dir, { serverUrl: url, app: 'shop' });
    const work = await createWorkClone(bare.url);
    const sha = await work.commit('first');
    const { stderr } = await work.push();
    expect(stderr).toMatch(
      new RegExp(
        `remote: gantry: could not notify ${url}/api/hooks/git \\(curl: .+\\); the poller will pick this push up`,
      ),
    );
    expect((await git(['rev-parse', 'main'], bare.dir)).stdout.trim()).toBe(sha);
  });

  it('falls back to wget when curl is missing', async () => {
    const server = await startServer();
    const bin = await makeTempDir('gantry-bin-');
    const which = promisify(execFile);
    for (const tool of ['git', 'sh', 'cat', 'dirname', 'sed', 'tr', 'grep', 'wget']) {
      const { stdout } = await which('sh', ['-c', `command -v ${tool}`]);
      await symlink(stdout.trim(), join(bin, tool));
    }
    const bare = await createBareRepo();
    await installPostReceiveHook(bare.dir, { serverUrl: server.url, app: 'shop', token: 'tok' });
    const work = await createWorkClone(bare.url);
    const sha = await work.commit('first');
    const { stderr } = await git(['push', 'origin', 'main'], work.dir, { PATH: bin });
    await server.close();
    expect(stderr).toContain(`remote: gantry: notified ${server.url}/api/hooks/git of refs/heads/main`);
    expect(server.received[0]?.headers.authorization).toBe('Bearer tok');
    expect(server.received[0]?.body).toMatchObject({ app: 'shop', after: sha });
  });

  it('keeps an existing post-receive hook and runs it first with the same input', async () => {
    const server = await startServer();
    const bare = await createBareRepo();
    const hooks = join(bare.dir, 'hooks');
    await mkdir(hooks, { recursive: true });
    const old = join(hooks, 'post-receive');
    await writeFile(old, '#!/bin/sh\ncat > "$(dirname "$0")/../seen.txt"\necho old hook ran >&2\n');
    await chmod(old, 0o755);

    const installed = await installPostReceiveHook(bare.dir, { serverUrl: server.url, app: 'shop' });
    expect(installed.preservedHook).toBe(join(hooks, 'post-receive.pre-gantry'));
    expect(installed.message).toMatch(/existing hook was kept as .*post-receive\.pre-gantry/);
    const again = await installPostReceiveHook(bare.dir, { serverUrl: server.url, app: 'shop' });
    expect(again.preservedHook).toBe(installed.preservedHook);

    const work = await createWorkClone(bare.url);
    const sha = await work.commit('first');
    const { stderr } = await work.push();
    await server.close();
    expect(stderr).toContain('remote: old hook ran');
    expect(await readFile(join(bare.dir, 'seen.txt'), 'utf8')).toBe(`${ZERO} ${sha} refs/heads/main\n`);
    expect(server.received.map((r) => r.body.after)).toEqual([sha]);
  });

  it('refuses a path that is not a bare repository', async () => {
    const work = await createWorkClone((await createBareRepo()).url);
    const opts = { serverUrl: 'http://127.0.0.1:1', app: 'shop' };
    await expect(installPostReceiveHook(work.dir, opts)).rejects.toThrow(/is not a bare git repository/);
    await expect(installPostReceiveHook(await makeTempDir(), opts)).rejects.toBeInstanceOf(InvalidInput);
  });
});
