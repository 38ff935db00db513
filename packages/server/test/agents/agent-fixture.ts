import { type ChildProcess, spawn } from 'node:child_process';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { afterAll } from 'vitest';
import { makeTempDir } from '../support/git-fixtures.js';
import { type TestServer, waitFor } from '../support/test-server.js';

const BIN = new URL('../../../cli/bin/gantry.js', import.meta.url).pathname;

export interface AgentProcess {
  child: ChildProcess;
  workDir: string;
  output(): string;
  exited: Promise<number | null>;
  waitForOutput(pattern: RegExp, ms?: number): Promise<void>;
}

/** The work dirs of the agents this test file started ("machines"). */
const machines = new Set<string>();

/**
 * What an agent's machine still runs when the test file is over — environments' proxies and apps
 * outlive a killed agent, as they would on a real machine — is stopped: every process whose command
 * line or working directory is inside one of the file's agent work dirs. Registered for every file
 * that imports this one; runs after the file's own afterAll hooks (which stop what they can).
 */
afterAll(async () => {
  const dirs = [...machines];
  machines.clear();
  if (!dirs.length) return;
  for (const pid of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => '');
    if (!dirs.some((d) => cmdline.includes(d) || cwd.startsWith(d))) continue;
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {}
  }
});

/** The CLI's environment without the test's GANTRY_* settings, with its own config dir. */
export async function cliEnv(extra: Record<string, string> = {}): Promise<NodeJS.ProcessEnv> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('GANTRY_')) env[k] = v;
  return { ...env, XDG_CONFIG_HOME: await makeTempDir('gantry-agent-xdg-'), ...extra };
}

/** `gantry agent` as a real process with its own work dir (given, to restart an agent on its machine). */
export async function spawnAgent(
  url: string,
  token: string,
  args: string[] = [],
  workDir?: string,
  /** A network namespace to run it in (netns-fixture.ts): a machine of its own on the network. */
  netns?: string,
  /** Variables of the agent machine's environment over the test's, e.g. its DOCKER_HOST. */
  env: Record<string, string> = {},
): Promise<AgentProcess> {
  const dir = workDir ?? (await makeTempDir('gantry-agent-work-'));
  machines.add(dir);
  const argv = [
    BIN,
    'agent',
    '--server',
    url,
    '--token',
    token,
    '--work-dir',
    dir,
    '--sandbox',
    'off',
    ...args,
  ];
  // `ip netns exec` execs the command: the child's pid is the agent's.
  const child = netns
    ? spawn('ip', ['netns', 'exec', netns, process.execPath, ...argv], {
        env: await cliEnv(env),
        stdio: ['ignore', 'pipe', 'pipe'],
      })
    : spawn(process.execPath, argv, { env: await cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const grew: (() => void)[] = [];
  const take = (d: Buffer) => {
    out += d.toString();
    for (const f of grew.splice(0)) f();
  };
  child.stdout!.on('data', take);
  child.stderr!.on('data', take);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    child,
    workDir: dir,
    output: () => out,
    exited,
    async waitForOutput(pattern, ms = 30_000) {
      const until = Date.now() + ms;
      while (!pattern.test(out)) {
        if (Date.now() > until)
          throw new Error(`the agent did not print ${pattern} within ${ms} ms:\n${out}`);
        await new Promise<void>((r) => {
          grew.push(r);
          setTimeout(r, 250);
        });
      }
    },
  };
}

/**
 * Waits until an agent process has asked for work for `host` since `sinceMs` (epoch ms): a
 * deployment requested after that is taken at once, not after the agent's start or reconnect.
 */
export async function hostHeld(server: TestServer, host: string, sinceMs = 0): Promise<void> {
  await waitFor(async () => {
    const row = await server.gantry.database.db
      .selectFrom('agent_hosts')
      .select(['seen_at', 'expires_at'])
      .where('host', '=', host)
      .executeTakeFirst();
    return row && Date.parse(row.seen_at) >= sinceMs && Date.parse(row.expires_at) > Date.now()
      ? true
      : undefined;
  }, `an agent holding host ${host}`);
}

/**
 * The gantry.yaml of a test app on deploy agents (deploy-fixture.ts's SERVER_JS and VERSION, packed
 * as they are) with one environment line, e.g. `qa: { port: 4100, host: web-1 }`.
 */
export function hostsYaml(environment: string): string {
  return `build:
  steps:
    - { name: package, run: "mkdir -p dist && cp server.js VERSION dist/" }
  artifact: { path: dist }
run:
  command: node server.js
  health: { path: /healthz, timeout: 20s }
environments:
  ${environment}
`;
}
