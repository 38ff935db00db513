import type { Artifact } from '@gantry/contracts';
import Docker from 'dockerode';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { engineOptions } from '../../src/containers/engine.js';
import { RegistryError, withRegistryRetries } from '../../src/containers/registry.js';
import type { AgentJob } from '../../src/features/agents/agent-service.js';
import { createApp, finishedBuild } from '../support/app-fixture.js';
import { baseImages, describeContainers, dockerHost, registry } from '../support/container-fixtures.js';
import { cleanupAll } from '../support/git-fixtures.js';
import { httpForwarder } from '../support/http-forwarder.js';
import { startTestServer, type TestServer, waitFor } from '../support/test-server.js';

afterAll(cleanupAll);

/**
 * The real registry behind a forwarder that answers 503 to the first `failures` manifest reads, as
 * a registry does while it restarts or its storage hiccups.
 */
async function flakyRegistry(failures: number) {
  let reads = 0;
  const forwarder = await httpForwarder((req, res) => {
    if (!req.url?.includes('/manifests/') || ++reads > failures) return registry;
    res.writeHead(503, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: 'storage is restarting' }] }));
    return null;
  });
  return { ...forwarder, manifestReads: () => reads };
}

const prefix = `gantry-finish-test-${process.pid}-${Date.now().toString(36)}`;
const yaml = `build:
  runs_on: [oci]
  steps:
    - { name: package, run: "mkdir -p dist && echo v1 > dist/index.html" }
  artifact: { path: dist }
  image: { base: "${baseImages.busybox}", repository: finish }
environments:
  qa: { auto_deploy: false, driver: container }
run:
  command: exec httpd -f -p $PORT -h /app
  port_env: PORT
`;

describeContainers("an agent's image finish while the registry hiccups (SQLite)", () => {
  let server: TestServer | undefined;
  let flaky: Awaited<ReturnType<typeof flakyRegistry>> | undefined;
  afterEach(async () => {
    await server?.close();
    await flaky?.close();
  });

  it('reads the manifest again with backoff instead of failing the build, and logs each try', async () => {
    flaky = await flakyRegistry(2);
    server = await startTestServer(
      { name: 'sqlite' },
      { registry: { url: `${flaky.host}/${prefix}`, host: flaky.host, prefix, insecure: true } },
    );
    const made = await server.api<{ token: string }>('POST', '/api/agents/tokens', { labels: ['oci'] });
    const app = await createApp(server, yaml, { name: 'shop' });
    // The agent's part, played by hand: the claim, then the image pushed to the registry.
    const call = (path: string, body: unknown) =>
      fetch(`${server!.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${made.body.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const job = await waitFor(async () => {
      const res = await call('/api/agent/claim', {});
      return res.status === 200 ? ((await res.json()) as AgentJob) : undefined;
    }, 'a build to claim');
    expect(job.build.id).toBe(app.buildIds[0]);
    const docker = new Docker(engineOptions(dockerHost));
    const target = `${registry}/${prefix}/finish`;
    await docker.getImage(baseImages.busybox).tag({ repo: target, tag: job.build.sha });
    const push = await docker
      .getImage(target)
      .push({ tag: job.build.sha, authconfig: { serveraddress: registry } });
    await new Promise((resolve, reject) =>
      docker.modem.followProgress(push, (e) => (e ? reject(e) : resolve(null))),
    );

    const jobPath = `/api/agent/jobs/${job.build.id}`;
    for (const body of [
      { idx: 0, status: 'running' },
      { idx: 0, status: 'succeeded', exitCode: 0 },
      { idx: 1, status: 'running' },
    ]) {
      const { idx, ...rest } = body;
      expect((await call(`${jobPath}/steps/${idx}`, { lease: job.lease, ...rest })).status).toBe(204);
    }
    const res = await call(`/api/agent/jobs/${job.build.id}/finish`, {
      lease: job.lease,
      status: 'succeeded',
      kind: 'image',
    });
    expect(res.status).toBe(200);
    const build = await finishedBuild(server, job.build.id);
    expect(build.status, build.error ?? '').toBe('succeeded');
    expect(flaky.manifestReads()).toBeGreaterThanOrEqual(3);
    const { body: artifact } = await server.api<Artifact>('GET', `/api/artifacts/${build.artifactId}`);
    expect(artifact).toMatchObject({
      kind: 'image',
      reference: `${flaky.host}/${prefix}/finish@${artifact.digest}`,
    });
    const log = await fetch(`${server.url}/api/builds/${build.id}/logs`, {
      headers: { authorization: `Bearer ${server.token}` },
    }).then((r) => r.text());
    const tries = log
      .split('\n')
      .filter((l) => l.startsWith(`gantry: reading ${prefix}/finish:${build.sha} failed`));
    expect(tries).toHaveLength(2);
    expect(tries[0]).toContain('answered 503');
    expect(tries[0]).toContain('UNAVAILABLE: storage is restarting');
    expect(tries[0]).toMatch(/attempt 2 of 5 in 1 s$/);
    expect(tries[1]).toMatch(/attempt 3 of 5 in 2 s$/);
  });
});

describe('registry retries (pure logic)', () => {
  it('tries again only while the registry does not answer or answers 5xx/429, then throws the last error', async () => {
    const heard: number[] = [];
    let n = 0;
    await expect(
      withRegistryRetries(
        async () => {
          n++;
          throw new RegistryError(`down ${n}`);
        },
        [0, 0],
        (_e, _wait, attempt) => {
          heard.push(attempt);
        },
      ),
    ).rejects.toThrow('down 3');
    expect(heard).toEqual([1, 2]);
    n = 0;
    await expect(
      withRegistryRetries(async () => {
        n++;
        throw new RegistryError('refused', 401);
      }, [0, 0]),
    ).rejects.toThrow('refused');
    expect(n).toBe(1);
    let calls = 0;
    expect(
      await withRegistryRetries(async () => {
        if (++calls < 3) throw new RegistryError('busy', calls === 1 ? 503 : 429);
        return 'read';
      }, [0, 0, 0]),
    ).toBe('read');
  });
});
