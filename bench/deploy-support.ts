import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Build, Deployment } from '@gantry/contracts';
import { freePortsBelowEphemeral } from '../packages/cli/src/demo/demo-ports.js';
import { installPostReceiveHook } from '../packages/server/src/git/post-receive-hook.js';
import { type BenchServer, git, isFinished, type Scope, sleep, startBenchServer, within } from './support.js';

/** The benchmarked app: `/` answers its VERSION file, `/healthz` 200. Booting it is Node's start-up. */
export const BENCH_SERVER_JS = `import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
const version = readFileSync(new URL('./VERSION', import.meta.url), 'utf8').trim();
createServer((req, res) => {
  res.end(req.url === '/healthz' ? 'ok' : version);
}).listen(Number(process.env.PORT), '127.0.0.1');
`;

/** How the app is built and run; the default is a tar.gz artifact run by the process driver. */
export interface DeployBenchOptions {
  /** Build an image from this base with the artifact folder (`build.image.base`) and run it with `driver: container`. */
  image?: { base: string };
  /** For the server's loadServerConfig, e.g. GANTRY_REGISTRY (an image needs a registry). */
  serverEnv?: NodeJS.ProcessEnv;
}

export interface BenchEnv {
  name: string;
  /** Warm standbys kept after a switch; Gantry's default is 1. */
  standby?: number;
  /** More of the environment's settings, in YAML flow form (`approvals: { required: 2, … }`). */
  extra?: string;
}

const FINISHED = ['succeeded', 'failed', 'rejected', 'superseded', 'interrupted'];

export interface DeployBench {
  bench: BenchServer;
  app: string;
  ports: Record<string, number>;
  /** Built commits in order; VERSION of the i-th is `v${i + 1}`. */
  shas: string[];
  /** Deploys through `POST /api/apps/:app/deployments` (with more of its body) and waits until it succeeded. */
  deploy(env: string, sha: string, body?: Record<string, unknown>): Promise<Deployment>;
  waitDone(id: string): Promise<Deployment>;
  /** Creates an annotated tag on `sha` in the work clone and pushes it; Date.now() when the push returned. */
  pushTag(tag: string, sha: string): Promise<number>;
  versionOf(sha: string): string;
  /** Commits the next version, pushes it and waits until its build succeeded; its SHA. */
  addVersion(): Promise<string>;
}

/**
 * A real server with one app whose gantry.yaml declares `envs` (each on its own port, none
 * auto-deployed), `versions` built commits and Gantry's post-receive hook. Environments are stopped
 * before the server when the scope closes.
 */
export async function createDeployBench(
  scope: Scope,
  name: string,
  envs: BenchEnv[],
  versions: number,
  opts: DeployBenchOptions = {},
): Promise<DeployBench> {
  const bench = await startBenchServer(scope, undefined, opts.serverEnv);
  scope.defer(() =>
    within(bench.server.gantry.deployer.stopAllEnvironments(), 120_000, 'stopping the environments'),
  );
  const portList = await freePortsBelowEphemeral(envs.length);
  const ports = Object.fromEntries(envs.map((e, i) => [e.name, portList[i]!]));
  const root = await scope.tempDir('deploy');
  const bare = join(root, 'repo.git');
  const work = join(root, 'work');
  await git(['init', '--quiet', '--bare', '--initial-branch=main', bare]);
  await git(['init', '--quiet', '--initial-branch=main', work]);
  await git(['remote', 'add', 'origin', bare], work);
  await writeFile(join(work, 'gantry.yaml'), deployYaml(envs, ports, opts));
  await writeFile(join(work, 'server.js'), BENCH_SERVER_JS);

  const shas: string[] = [];
  const commit = async () => {
    const version = `v${shas.length + 1}`;
    await writeFile(join(work, 'VERSION'), `${version}\n`);
    await git(['add', '--all'], work);
    await git(['commit', '--quiet', '--no-verify', '-m', version], work);
    const sha = (await git(['rev-parse', 'HEAD'], work)).stdout.trim();
    shas.push(sha);
    return sha;
  };
  const built = async (sha: string) => {
    // An image build (context, engine build, push) takes seconds, more on a loaded machine.
    const until = Date.now() + (opts.image ? 300_000 : 30_000);
    for (;;) {
      const [b] = await bench.api<Build[]>('GET', `/api/builds?app=${name}&sha=${sha}`);
      if (b && isFinished(b)) {
        if (b.status !== 'succeeded')
          throw new Error(`the build of ${sha.slice(0, 7)} ${b.status}: ${b.error}`);
        return;
      }
      if (Date.now() > until) throw new Error(`timed out waiting for the build of ${sha.slice(0, 7)}`);
      await sleep(20);
    }
  };

  const first = await commit();
  await git(['push', '--quiet', 'origin', 'main'], work);
  await bench.api('POST', '/api/apps', { name, repoUrl: bare });
  await built(first);
  const { token } = await bench.api<{ token: string }>('POST', `/api/apps/${name}/hook-token`);
  await installPostReceiveHook(bare, { serverUrl: bench.server.url, app: name, token });
  // One push for the rest: with build mode `every`, each of its commits is built.
  const rest: string[] = [];
  for (let i = 1; i < versions; i++) rest.push(await commit());
  if (rest.length) await git(['push', '--quiet', 'origin', 'main'], work);
  for (const sha of rest) await built(sha);

  const waitDone = async (id: string): Promise<Deployment> => {
    const until = Date.now() + 60_000;
    for (;;) {
      const d = await bench.api<Deployment>('GET', `/api/deployments/${id}`);
      if (FINISHED.includes(d.status)) return d;
      if (Date.now() > until) throw new Error(`timed out waiting for deployment ${id}`);
      await sleep(10);
    }
  };
  return {
    bench,
    app: name,
    ports,
    shas,
    waitDone,
    async deploy(env, sha, body = {}) {
      const d = await bench.api<Deployment>('POST', `/api/apps/${name}/deployments`, {
        env,
        ref: sha,
        ...body,
      });
      const done = await waitDone(d.id);
      if (done.status !== 'succeeded')
        throw new Error(`deploying ${sha.slice(0, 7)} to ${env} ${done.status}: ${done.error}`);
      return done;
    },
    async pushTag(tag, sha) {
      await git(['tag', '-a', tag, '-m', `bench ${tag}`, sha], work);
      await git(['push', '--quiet', 'origin', tag], work);
      return Date.now();
    },
    versionOf(sha) {
      const i = shas.indexOf(sha);
      if (i < 0) throw new Error(`unknown SHA ${sha}`);
      return `v${i + 1}`;
    },
    async addVersion() {
      const sha = await commit();
      await git(['push', '--quiet', 'origin', 'main'], work);
      await built(sha);
      return sha;
    },
  };
}

function deployYaml(envs: BenchEnv[], ports: Record<string, number>, opts: DeployBenchOptions): string {
  const driver = opts.image ? ', driver: container' : '';
  const lines = envs.map(
    (e) =>
      `  ${e.name}: { port: ${ports[e.name]}${e.standby === undefined ? '' : `, standby: ${e.standby}`}${driver}${e.extra ? `, ${e.extra}` : ''} }`,
  );
  // The image's entrypoint is run.command in /app (the artifact folder); the app binds 127.0.0.1:$PORT,
  // which the container driver's default host networking serves unchanged.
  const image = opts.image ? `\n  image: { base: ${JSON.stringify(opts.image.base)} }` : '';
  return `build:
  steps:
    - { name: package, run: "mkdir -p dist && cp server.js VERSION dist/" }
  artifact: { path: dist }${image}
  mode: every
run:
  command: node server.js
  port_env: PORT
  health: { path: /healthz, timeout: ${opts.image ? 30 : 10}s }
environments:
${lines.join('\n')}
`;
}

/** A folder with the app's files, for timing its boot without Gantry. */
export async function writeBenchApp(dir: string, version: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'server.js'), BENCH_SERVER_JS);
  await writeFile(join(dir, 'VERSION'), `${version}\n`);
}
