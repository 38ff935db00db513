import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { expect, it } from 'vitest';
import { baseImages, describeContainers, dockerSocket, registry } from '../support/container-fixtures.js';

/**
 * The machine set-up every container suite shares (scripts/containers/setup.sh): the Docker Engine
 * API answers on DOCKER_HOST, the base images run, and the registry holds them. Plain node:http
 * on purpose, so a failure here is about the set-up, not about a client library.
 */

interface Reply {
  status: number;
  body: Buffer;
}

function engine(method: string, path: string, body?: unknown): Promise<Reply> {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath: dockerSocket,
        path: `/v1.41${path}`,
        method,
        headers: payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

function json<T>(reply: Reply, ...ok: number[]): T {
  if (!ok.includes(reply.status))
    throw new Error(`engine answered ${reply.status}: ${reply.body.toString()}`);
  return JSON.parse(reply.body.toString()) as T;
}

/** stdout and stderr from the multiplexed log stream (no TTY): 8-byte frame headers, stream byte first. */
function demux(raw: Buffer): { stdout: string; stderr: string } {
  const out = { stdout: '', stderr: '' };
  let at = 0;
  while (at + 8 <= raw.length) {
    const size = raw.readUInt32BE(at + 4);
    const text = raw.subarray(at + 8, at + 8 + size).toString();
    if (raw[at] === 2) out.stderr += text;
    else out.stdout += text;
    at += 8 + size;
  }
  return out;
}

/** create, start, wait, logs and delete one container; resolves to its exit code and output. */
async function runOnce(image: string, cmd: string[], networkMode: string) {
  const name = `gantry-engine-setup-${randomBytes(4).toString('hex')}`;
  const created = json<{ Id: string }>(
    await engine('POST', `/containers/create?name=${name}`, {
      Image: image,
      Cmd: cmd,
      Labels: { 'gantry.test': 'engine-setup' },
      HostConfig: { NetworkMode: networkMode },
    }),
    201,
  );
  try {
    const started = await engine('POST', `/containers/${created.Id}/start`);
    expect(started.status, started.body.toString()).toBe(204);
    const { StatusCode } = json<{ StatusCode: number }>(
      await engine('POST', `/containers/${created.Id}/wait`),
      200,
    );
    const logs = await engine('GET', `/containers/${created.Id}/logs?stdout=1&stderr=1`);
    expect(logs.status).toBe(200);
    return { exitCode: StatusCode, ...demux(logs.body) };
  } finally {
    const deleted = await engine('DELETE', `/containers/${created.Id}?force=1`);
    expect([200, 204]).toContain(deleted.status);
  }
}

describeContainers('container machine set-up (scripts/containers/setup.sh)', () => {
  it('answers /_ping on DOCKER_HOST', async () => {
    const reply = await engine('GET', '/_ping');
    expect(reply.status).toBe(200);
    expect(reply.body.toString()).toBe('OK');
  });

  it('runs the busybox base image once: exit 0, the marker in its logs, removed afterwards', async () => {
    const marker = `engine-setup-${randomBytes(6).toString('hex')}`;
    const run = await runOnce(
      baseImages.busybox,
      ['sh', '-c', `echo ${marker}; echo to-stderr >&2; id -u`],
      'host',
    );
    expect(run).toMatchObject({ exitCode: 0, stderr: 'to-stderr\n' });
    expect(run.stdout).toBe(`${marker}\n0\n`);
    const left = json<unknown[]>(
      await engine(
        'GET',
        `/containers/json?all=1&filters=${encodeURIComponent('{"label":["gantry.test=engine-setup"]}')}`,
      ),
      200,
    );
    expect(left).toEqual([]);
  });

  it("runs node in the node base image, the host's own version, on a bridge network", async () => {
    const run = await runOnce(baseImages.node, ['node', '-e', 'console.log(process.version)'], 'bridge');
    expect(run).toMatchObject({ exitCode: 0, stdout: `${process.version}\n`, stderr: '' });
  });

  it('keeps both base images in the registry', async () => {
    for (const ref of [baseImages.busybox, baseImages.node]) {
      expect(ref.startsWith(`${registry}/`)).toBe(true);
      const [repo, tag] = ref.slice(registry.length + 1).split(':');
      const res = await fetch(`http://${registry}/v2/${repo}/tags/list`);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { tags: string[] }).tags).toContain(tag);
    }
    // Tagged with the host's node major: 20 for this project.
    const node = await fetch(`http://${registry}/v2/gantry-base/node/tags/list`);
    expect(((await node.json()) as { tags: string[] }).tags).toContain(process.versions.node.split('.')[0]);
  });
});
