import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Build, Deployment, GantryEvent, Release } from '@gantry/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshSchemaName } from '../support/engines.js';
import {
  cleanupAll,
  createBareRepo,
  createWorkClone,
  makeTempDir,
  type WorkClone,
} from '../support/git-fixtures.js';
import { alive, freePort, type ServerProcess, spawnServer } from '../support/server-process.js';
import { apiCall, waitFor } from '../support/test-server.js';

/**
 * Three `gantry server` processes on one PostgreSQL schema, each with its own data dir (as on
 * three machines): one is killed with SIGKILL in the middle of a build, one in the middle of a
 * deployment, and the leader just before a scheduled release is due. Nothing is done twice or lost.
 */
const PG = process.env.TEST_PG_URL;

interface Member extends ServerProcess {
  name: string;
}

async function call<T>(s: Member, method: string, path: string, body?: unknown): Promise<T> {
  const res = await apiCall<T>(s.url, s.token, method, path, body);
  if (res.status >= 400)
    throw new Error(`${method} ${path} on ${s.name}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

const pidOf = (instance: string) => Number(instance.split(':')[1]);

describe.runIf(PG)('three servers on one PostgreSQL database', () => {
  const schema = freshSchemaName();
  const members: Member[] = [];
  let cluster: string;
  let work: WorkClone;
  let bareDir: string;
  let token = '';
  let count = 0;
  let v1 = '';

  async function join_(): Promise<Member> {
    const name = `s${++count}`;
    const dataDir = await makeTempDir(`gantry-${name}-`);
    // Only the first server of a database makes an admin token; the others are told it.
    if (token)
      await writeFile(join(dataDir, 'cli.json'), JSON.stringify({ url: 'http://127.0.0.1:1', token }));
    const s = await spawnServer(dataDir, await freePort(), {
      GANTRY_DATABASE_URL: PG,
      GANTRY_DATABASE_SCHEMA: schema,
      GANTRY_DEPLOY_LEASE_MS: '2000',
      GANTRY_STALE_AFTER_MS: '2000',
      GANTRY_LEADER_RETRY_MS: '300',
      // The deploy script below writes to a folder outside its working folder (the "cluster").
      GANTRY_BUILDS_SANDBOX: 'off',
    });
    token ||= s.token;
    const m = { ...s, name };
    members.push(m);
    return m;
  }
  const live = () => members.filter((m) => m.child.exitCode === null && m.child.signalCode === null);
  const any = () => live()[0]!;
  const kill = async (m: Member) => {
    m.child.kill('SIGKILL');
    await m.exited;
  };
  const memberByPid = (pid: number) => members.find((m) => m.child.pid === pid);

  async function events(type: string): Promise<GantryEvent[]> {
    return call<GantryEvent[]>(any(), 'GET', `/api/events?type=${type}&limit=500`);
  }
  async function buildsOf(sha: string): Promise<Build[]> {
    return (await call<Build[]>(any(), 'GET', '/api/builds?app=shop&limit=100')).filter((b) => b.sha === sha);
  }
  async function deploymentsOf(sha: string): Promise<Deployment[]> {
    return (await call<Deployment[]>(any(), 'GET', '/api/deployments?app=shop&env=qa&limit=100')).filter(
      (d) => d.sha === sha,
    );
  }
  const current = () =>
    readFile(join(cluster, 'current'), 'utf8').then(
      (s) => s.trim(),
      () => '',
    );
  async function push(version: string): Promise<string> {
    await work.write('VERSION', version);
    const sha = await work.commit(version);
    await work.push();
    await call(any(), 'POST', '/api/apps/shop/sync');
    return sha;
  }

  beforeAll(async () => {
    cluster = await makeTempDir('gantry-cluster-');
    const bare = await createBareRepo();
    bareDir = bare.dir;
    work = await createWorkClone(bare.url);
    // The "cluster" stands in for what an environment runs on (Kubernetes, say): any server may
    // deploy to it. Its deploy script honours the fencing token, as a real target's API would.
    const deploy = [
      'set -e',
      'seen=$(cat "$CLUSTER/fence" 2>/dev/null || echo 0)',
      '[ "$GANTRY_FENCE" -ge "$seen" ] || { echo "refused: fence $GANTRY_FENCE < $seen"; exit 1; }',
      'echo "$GANTRY_FENCE" > "$CLUSTER/fence"',
      'echo "$GANTRY_SHA $GANTRY_FENCE $(sha256sum < "$GANTRY_ARTIFACT" | cut -c1-64) $GANTRY_ARTIFACT_DIGEST" >> "$CLUSTER/log"',
      'if [ -f "$CLUSTER/slow" ]; then sleep 6; fi',
      'seen=$(cat "$CLUSTER/fence")',
      '[ "$GANTRY_FENCE" -ge "$seen" ] || { echo "refused: fence $GANTRY_FENCE < $seen"; exit 1; }',
      'echo "$GANTRY_SHA" > "$CLUSTER/current"',
      'echo "$GANTRY_SHA"',
    ].join('\n');
    await work.write(
      'gantry.yaml',
      `build:
  steps:
    - { name: package, run: "case $(cat VERSION) in slow*) sleep 8;; esac; mkdir -p dist && cp VERSION dist/" }
  artifact: { path: dist }
environments:
  qa:
    auto_deploy: true
    driver: command
    deploy: ${JSON.stringify(deploy)}
    health: "cat \\"$CLUSTER/current\\" 2>/dev/null || true"
    config: { CLUSTER: ${JSON.stringify(cluster)} }
`,
    );
    await work.write('VERSION', 'v1');
    v1 = await work.commit('v1');
    await work.push();
    await join_();
    await Promise.all([join_(), join_()]);
  });

  afterAll(async () => {
    for (const m of live()) m.child.kill('SIGTERM');
    await Promise.all(members.map((m) => m.exited));
    await cleanupAll();
  });

  it('one server leads; the others know the same database', async () => {
    const infos = await Promise.all(
      live().map((m) => call<{ cluster: { shared: boolean; leader: boolean } }>(m, 'GET', '/api/server')),
    );
    expect(infos.every((i) => i.cluster.shared)).toBe(true);
    expect(infos.filter((i) => i.cluster.leader)).toHaveLength(1);
  });

  it('a build whose server is killed is taken over by another, which makes its mirror on demand; built once, deployed by any', async () => {
    await call(members[0]!, 'POST', '/api/apps', { name: 'shop', repoUrl: bareDir });
    await waitFor(async () => ((await current()) === v1 ? true : undefined), 'v1 in qa', 60_000);

    const slow = await push('slow-v2');
    const started = await waitFor(
      async () => {
        const e = (await events('build.started')).find((x) => x.data.sha === slow);
        return e;
      },
      'the slow build to start',
      30_000,
    );
    const victim = memberByPid(pidOf(String(started.data.runner)));
    expect(victim).toBeDefined();
    await kill(victim!);
    const done = await waitFor(
      async () => (await buildsOf(slow)).find((b) => b.status === 'succeeded'),
      'the build to be taken over and to succeed',
      60_000,
    );
    const builds = await buildsOf(slow);
    expect(builds.filter((b) => b.status === 'succeeded')).toHaveLength(1);
    expect(builds.filter((b) => b.status === 'interrupted')).toHaveLength(1);
    const taker = (await events('build.started')).find((x) => x.subject === done.id);
    expect(pidOf(String(taker?.data.runner))).not.toBe(victim!.child.pid);
    expect(done.artifactId).toBeTruthy();
    // deployed to qa by whichever server took the deployment, from the one artifact
    await waitFor(async () => ((await current()) === slow ? true : undefined), 'v2 in qa', 60_000);
    const log = (await readFile(join(cluster, 'log'), 'utf8')).trim().split('\n');
    for (const line of log) {
      const [, , fileHash, digest] = line.split(' ');
      expect(`sha256:${fileHash}`).toBe(digest);
    }
    await join_(); // back to three
  });

  it('a deployment whose server is killed is taken over: the environment ends on the release, once, with a higher fence', async () => {
    await writeFile(join(cluster, 'slow'), '');
    const v3 = await push('v3');
    const started = await waitFor(
      async () => (await events('deployment.started')).find((e) => e.data.sha === v3 && e.data.env === 'qa'),
      'the deployment of v3 to start',
      60_000,
    );
    await waitFor(
      async () => ((await readFile(join(cluster, 'log'), 'utf8')).includes(`${v3} `) ? true : undefined),
      'the deploy script of v3 to run',
      30_000,
    );
    const fenceBefore = Number((await readFile(join(cluster, 'fence'), 'utf8')).trim());
    const victim = memberByPid(pidOf(String(started.data.server)));
    expect(victim).toBeDefined();
    await kill(victim!);
    await rm(join(cluster, 'slow'));
    const retried = await waitFor(
      async () => (await deploymentsOf(v3)).find((d) => d.status === 'succeeded'),
      'the deployment to be taken over and run again',
      60_000,
    ).catch(async (e) => {
      console.log(JSON.stringify(await deploymentsOf(v3), null, 1));
      for (const m of members) console.log(m.name, m.child.pid, m.output().slice(-3000));
      console.log(await readFile(join(cluster, 'log'), 'utf8'));
      throw e;
    });
    const all = await deploymentsOf(v3);
    expect(all.filter((d) => d.status === 'interrupted')).toHaveLength(1);
    expect(all.filter((d) => d.status === 'succeeded')).toEqual([retried]);
    expect(await current()).toBe(v3);
    expect(Number((await readFile(join(cluster, 'fence'), 'utf8')).trim())).toBeGreaterThan(fenceBefore);
    const taken = (await events('deployment.interrupted')).find(
      (e) => e.subject === all.find((d) => d.status === 'interrupted')!.id,
    );
    expect(taken?.data.server).toBe(started.data.server);
    await join_();
  });

  it('a scheduled release is applied once by the next leader when the leader dies', async () => {
    const s = any();
    await call(s, 'POST', '/api/apps/shop/toggles', { name: 'new-checkout' });
    await call(s, 'POST', '/api/releases', { name: 'spring' });
    await call(s, 'POST', '/api/releases/spring/changes', {
      app: 'shop',
      toggle: 'new-checkout',
      env: 'qa',
      change: { enabled: true },
    });
    const leaders = async () => {
      const found: Member[] = [];
      for (const m of live()) {
        const info = await call<{ cluster: { leader: boolean } }>(m, 'GET', '/api/server');
        if (info.cluster.leader) found.push(m);
      }
      return found;
    };
    const [leader] = await leaders();
    expect(leader).toBeDefined();
    await call(s, 'POST', '/api/releases/spring/schedule', {
      at: new Date(Date.now() + 3_000).toISOString(),
    });
    await kill(leader!);
    const applied = await waitFor(
      async () => {
        const r = await call<Release>(any(), 'GET', '/api/releases/spring');
        return r.status === 'applied' ? r : undefined;
      },
      'the release to be applied by the next leader',
      30_000,
    );
    expect(applied.status).toBe('applied');
    expect((await leaders()).length).toBe(1);
    expect((await events('release.applied')).filter((e) => e.subject === 'spring')).toHaveLength(1);
    expect(alive(leader!.child.pid!)).toBe(false);
  });
});
