import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import type { ImageArtifact } from '@gantry/driver-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectEngine, EngineUnavailable } from '../../../src/containers/engine.js';
import { createContainerDriver } from '../../../src/drivers/container/container-driver.js';
import { LABEL } from '../../../src/drivers/container/container-labels.js';
import { describeContainers, registry } from '../../support/container-fixtures.js';
import {
  buildImage,
  cleanupContainers,
  docker,
  envContainers,
  releaseOf,
  served,
  testEnv,
  waitFor,
  withContext,
} from './container-fixtures.js';

const fast = { stopTimeoutS: 3, drainTimeoutMs: 3_000, supervision: { initialBackoffMs: 200, pollMs: 100 } };

describe('container driver without an engine', () => {
  it('starts, and says where it looked and how to get one when an environment uses it', async () => {
    const driver = createContainerDriver({
      connect: () => connectEngine({ DOCKER_HOST: 'unix:///nonexistent/gantry-test/docker.sock' }),
    });
    const t = await testEnv();
    const image: ImageArtifact = {
      kind: 'image',
      reference: `127.0.0.1:5000/shop@sha256:${'1'.repeat(64)}`,
      digest: `sha256:${'1'.repeat(64)}`,
    };
    const error = await driver.deploy(releaseOf(t.env, 'v1', image), t.ctx).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EngineUnavailable);
    expect((error as Error).message).toMatch(/unix:\/\/\/nonexistent\/gantry-test\/docker\.sock/);
    expect((error as Error).message).toMatch(/podman system service/);
    expect((await driver.health(t.env, t.ctx)).healthy).toBe(false);
    await driver.stop(t.env, t.ctx);
    await driver.close();
    await cleanupContainers();
  });
});

describeContainers('container driver', { timeout: 120_000 }, () => {
  const driver = createContainerDriver(fast);
  let v1: ImageArtifact;
  let v2: ImageArtifact;
  let dies: ImageArtifact;

  beforeAll(async () => {
    [v1, v2, dies] = await Promise.all([
      buildImage('v1'),
      buildImage('v2'),
      buildImage('dies', { exitAtOnce: true }),
    ]);
  }, 180_000);

  afterAll(async () => {
    await driver.close();
    await cleanupContainers();
  });

  it('runs the image with the config, port_env, limits, an init and labels; its output reaches the deployment log', async () => {
    const t = await testEnv();
    t.env.run!.limits = { memoryBytes: 256 * 1024 * 1024, cpus: 0.5 };
    const release = releaseOf(t.env, 'v1', v1);
    expect(await driver.deploy(release, t.ctx)).toEqual({
      url: `http://127.0.0.1:${t.env.port}`,
      kind: 'start',
    });
    expect(await served(t.env.port)).toBe('v1');
    expect(await served(t.env.port, '/config/LOG_LEVEL')).toBe('debug');
    expect(t.phases).toEqual(expect.arrayContaining(['unpack', 'start', 'health', 'switch']));

    const [listed, ...more] = await envContainers(t.env);
    expect(more).toEqual([]);
    const info = await (await docker()).getContainer(listed!.Id).inspect();
    expect(info.Name.replace(/^\//, '')).toBe(`gantry-${t.env.app}-qa-${release.sha.slice(0, 12)}-1`);
    expect(info.Config.Labels).toMatchObject({
      [LABEL.app]: t.env.app,
      [LABEL.env]: 'qa',
      [LABEL.sha]: release.sha,
      [LABEL.deployment]: release.deploymentId,
      [LABEL.digest]: v1.digest,
      [LABEL.revision]: release.sha,
    });
    expect(info.HostConfig.Memory).toBe(256 * 1024 * 1024);
    const { NanoCpus, CpuQuota, CpuPeriod } = info.HostConfig;
    expect(NanoCpus || ((CpuQuota ?? 0) / (CpuPeriod || 100_000)) * 1e9).toBe(5e8);
    expect(info.HostConfig.Init).toBe(true);
    expect(info.Config.Env).toEqual(expect.arrayContaining([`LOG_LEVEL=debug`, `GANTRY_SHA=${release.sha}`]));
    expect(info.Image === v1.reference || info.Config.Image === v1.reference).toBe(true);
    expect(t.lines.some((l) => l.includes('v1 listening on'))).toBe(true);
  });

  it('with bridge networking, publishes the container port on 127.0.0.1 only', async () => {
    const bridged = createContainerDriver({ ...fast, network: 'bridge', containerPort: 8080 });
    try {
      const t = await testEnv({ config: { LISTEN_HOST: '0.0.0.0' } });
      await bridged.deploy(releaseOf(t.env, 'v1', v1), t.ctx);
      expect(await served(t.env.port)).toBe('v1');
      const [listed] = await envContainers(t.env);
      const info = await (await docker()).getContainer(listed!.Id).inspect();
      expect(info.HostConfig.NetworkMode).toBe('bridge');
      expect(info.Config.Env).toContain('PORT=8080');
      expect(info.HostConfig.PortBindings).toEqual({
        '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: listed!.Labels[LABEL.port] }],
      });
      await bridged.stop(t.env, t.ctx);
    } finally {
      await bridged.close();
    }
  });

  it('keeps the previous container warm: a rollback is a switch; older containers are drained and removed', async () => {
    const t = await testEnv();
    const r1 = releaseOf(t.env, 'v1', v1);
    const r2 = releaseOf(t.env, 'v2', v2);
    await driver.deploy(r1, t.ctx);
    // Requests on kept-alive connections all through a start and a switch: none may fail.
    const load = steadyLoad(t.env.port);
    await driver.deploy(r2, t.ctx);
    expect(await served(t.env.port)).toBe('v2');
    const started = Date.now();
    expect((await driver.deploy({ ...r1, deploymentId: 'rollback' }, t.ctx)).kind).toBe('switch');
    const switchMs = Date.now() - started;
    expect(await served(t.env.port)).toBe('v1');
    const answers = await load.stop();
    expect(answers.failed).toEqual([]);
    expect(answers.versions).toEqual(new Set(['v1', 'v2']));
    console.log(`container driver: rollback to the warm standby took ${switchMs} ms`);
    expect(await driver.releases(t.env, t.ctx)).toEqual([
      { sha: r1.sha, digest: v1.digest, state: 'serving' },
      { sha: r2.sha, digest: v2.digest, state: 'standby' },
    ]);

    // A third release: v1 stays warm, v2's container goes.
    const r3 = releaseOf(t.env, 'v2b', v2);
    expect((await driver.deploy(r3, t.ctx)).kind).toBe('start');
    const shas = (await envContainers(t.env)).map((c) => c.Labels[LABEL.sha]).sort();
    expect(shas).toEqual([r1.sha, r3.sha].sort());
  });

  it('restarts a crashed container with backoff and reports it', async () => {
    const t = await testEnv({ config: { CRASH_AFTER_MS: '4000' } });
    await driver.deploy(releaseOf(t.env, 'v1', v1), t.ctx);
    const crashed = await waitFor(() => t.events.find((e) => e.type === 'crashed'), 'a crash event');
    expect(crashed).toMatchObject({ type: 'crashed', exitCode: 3, restartInMs: 200 });
    await waitFor(() => t.events.find((e) => e.type === 'restarted'), 'a restart event');
    expect(await waitFor(async () => (await served(t.env.port)) ?? undefined, 'v1 serving again')).toBe('v1');
    await driver.stop(t.env, t.ctx);
    expect(await envContainers(t.env)).toEqual([]);
  });

  it('gives up on a container that keeps crashing, and reports it', async () => {
    const impatient = createContainerDriver({ ...fast, supervision: { ...fast.supervision, maxCrashes: 2 } });
    try {
      const t = await testEnv({ config: { CRASH_AFTER_MS: '1500' } });
      const release = releaseOf(t.env, 'v1', v1);
      await impatient.deploy(release, t.ctx);
      await waitFor(() => t.events.find((e) => e.type === 'gave-up'), 'giving up');
      expect(t.events.map((e) => e.type)).toEqual(['crashed', 'restarted', 'gave-up']);
      expect(t.events.at(-1)).toEqual({ type: 'gave-up', sha: release.sha, crashes: 2 });
      expect((await impatient.health(t.env, t.ctx)).healthy).toBe(false);
      await impatient.stop(t.env, t.ctx);
    } finally {
      await impatient.close();
    }
  });

  it('creates a container removed by hand again, and the proxy follows it', async () => {
    const t = await testEnv();
    const release = releaseOf(t.env, 'v1', v1);
    await driver.deploy(release, t.ctx);
    const [first] = await envContainers(t.env);
    await (await docker()).getContainer(first!.Id).remove({ force: true });
    await waitFor(() => t.events.find((e) => e.type === 'restarted'), 'a restart event');
    expect(t.events[0]).toMatchObject({ type: 'crashed', sha: release.sha });
    expect(await served(t.env.port)).toBe('v1');
    const [again, ...more] = await envContainers(t.env);
    expect(more).toEqual([]);
    expect(again!.Names[0]).toMatch(new RegExp(`gantry-${t.env.app}-qa-${release.sha.slice(0, 12)}-2$`));
    expect((await driver.health(t.env, t.ctx)).healthy).toBe(true);
  });

  it('refuses an image whose digest no longer resolves, naming it; the old container keeps serving', async () => {
    const t = await testEnv();
    await driver.deploy(releaseOf(t.env, 'v1', v1), t.ctx);
    const digest = `sha256:${'0'.repeat(64)}`;
    const gone: ImageArtifact = {
      ...v1,
      digest,
      reference: `${registry}/gantry-test/container-driver@${digest}`,
    };
    await expect(driver.deploy(releaseOf(t.env, 'gone', gone), t.ctx)).rejects.toThrow(
      `cannot pull image ${gone.reference}: `,
    );
    expect(await served(t.env.port)).toBe('v1');
    expect(await envContainers(t.env)).toHaveLength(1);
  });

  it('refuses an image that exits at once, with its exit code and last log lines; the old container keeps serving', async () => {
    const t = await testEnv();
    await driver.deploy(releaseOf(t.env, 'v1', v1), t.ctx);
    const error = await driver.deploy(releaseOf(t.env, 'dies', dies), t.ctx).catch((e: Error) => e);
    expect((error as Error).message).toMatch(/exited with code 3 before answering \/healthz/);
    expect((error as Error).message).toContain('dies cannot start: missing DATABASE_URL');
    expect(await served(t.env.port)).toBe('v1');
    expect((await driver.health(t.env, t.ctx)).healthy).toBe(true);
    expect(await envContainers(t.env)).toHaveLength(1);
  });

  it('refuses an environment whose port is taken, and starts nothing', async () => {
    const t = await testEnv();
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(t.env.port, '127.0.0.1', resolve));
    try {
      await expect(driver.deploy(releaseOf(t.env, 'v1', v1), t.ctx)).rejects.toThrow(
        `port ${t.env.port} for environment qa is already in use`,
      );
      expect(await envContainers(t.env)).toEqual([]);
    } finally {
      holder.close();
    }
  });

  it('adopts the containers a restarted Gantry finds by their labels, stops unknown ones, and supervises them', async () => {
    const t = await testEnv();
    const r1 = releaseOf(t.env, 'v1', v1);
    const r2 = releaseOf(t.env, 'v2', v2);
    await driver.deploy(r1, t.ctx);
    await driver.deploy(r2, t.ctx);
    const d = await docker();
    const serving = (await envContainers(t.env)).find((c) => c.Labels[LABEL.sha] === r2.sha)!;
    const servingStart = (await d.getContainer(serving.Id).inspect()).State.StartedAt;
    // A container of this environment that no state file knows (left by someone, or by a crash).
    const stranger = await d.createContainer({
      name: `gantry-${t.env.app}-qa-stranger`,
      Image: v1.reference,
      Labels: { ...serving.Labels, [LABEL.sha]: 'f'.repeat(40) },
      HostConfig: { NetworkMode: 'host' },
      Env: ['PORT=1'],
    });

    const later = createContainerDriver(fast);
    try {
      const next = withContext(t.workdir, t.env);
      expect((await later.restore!(t.env, r2, next.ctx)).kind).toBe('noop');
      expect(await served(t.env.port)).toBe('v2');
      expect((await d.getContainer(serving.Id).inspect()).State.StartedAt).toBe(servingStart);
      const left = await envContainers(t.env);
      expect(left.map((c) => c.Id)).not.toContain(stranger.id);
      expect(left.map((c) => c.Labels[LABEL.sha]).sort()).toEqual([r1.sha, r2.sha].sort());
      expect(left.every((c) => c.State === 'running')).toBe(true);

      // A crash: the container's init killed from the host (rootful engine, one pid namespace). Not
      // `docker kill`, which on podman waits for an exit that the supervisor's restart overtakes.
      process.kill((await d.getContainer(serving.Id).inspect()).State.Pid, 'SIGKILL');
      await waitFor(() => next.events.find((e) => e.type === 'restarted'), 'a restart by the new driver');
      expect(await waitFor(async () => (await served(t.env.port)) ?? undefined, 'v2 serving again')).toBe(
        'v2',
      );
    } finally {
      await later.close();
    }
  });
});

/** GETs / in a loop on one kept-alive connection until stopped: which versions answered, and every failure. */
function steadyLoad(port: number): { stop(): Promise<{ versions: Set<string>; failed: string[] }> } {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const versions = new Set<string>();
  const failed: string[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const answer = await new Promise<string>((resolve) => {
        const req = request({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            body += chunk;
          });
          res.on('end', () => resolve(res.statusCode === 200 ? body : `HTTP ${res.statusCode}: ${body}`));
        });
        req.on('error', (err) => resolve(`error: ${err.message}`));
        req.end();
      });
      if (/^v\d$/.test(answer)) versions.add(answer);
      else failed.push(answer);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      agent.destroy();
      return { versions, failed };
    },
  };
}
