import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const DEFAULT_PG_URL = 'postgres://postgres@127.0.0.1:5432/test';

async function reachable(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query('select 1');
    return null;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * The PostgreSQL suites run when TEST_PG_URL is set, or when the default local server answers.
 * CI sets GANTRY_REQUIRE_PG=1 so that they can never be skipped there.
 */
export default async function setup(): Promise<(() => Promise<void>) | undefined> {
  userConfig();
  browser();
  sandbox();
  promtool();
  await containers();
  const url = process.env.TEST_PG_URL || DEFAULT_PG_URL;
  const problem = await reachable(url);
  if (!problem) {
    process.env.TEST_PG_URL = url;
    // Test schemas are named after the run and dropped together when it ends (see engines.ts).
    const run = randomBytes(4).toString('hex');
    process.env.TEST_PG_RUN = run;
    process.stdout.write(`PostgreSQL suites: on (${url})\n`);
    return () => dropRunSchemas(url, run);
  }
  if (process.env.GANTRY_REQUIRE_PG === '1' || process.env.TEST_PG_URL) {
    throw new Error(`PostgreSQL at ${url} is required for the tests but unreachable: ${problem}`);
  }
  delete process.env.TEST_PG_URL;
  process.stdout.write(
    `\n*** PostgreSQL suites: OFF — ${url} is unreachable (${problem}).\n` +
      '*** Start it (see README) or set TEST_PG_URL; CI always runs them.\n\n',
  );
}

/**
 * `gantry server` and `gantry login` write the user's CLI config ($XDG_CONFIG_HOME/gantry): every
 * process of the run gets an empty one of its own, never the real home's (helpers that spawn the
 * CLI give each subprocess a fresh one on top of this).
 */
function userConfig(): void {
  const dir = mkdtempSync(join(tmpdir(), 'gantry-test-xdg-'));
  process.env.XDG_CONFIG_HOME = dir;
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
}

/** Chromium (for the HTML report) as PostgreSQL: on when installed, required in CI (GANTRY_REQUIRE_CHROMIUM=1). */
function browser(): void {
  const path = process.env.TEST_CHROMIUM ?? '/usr/bin/chromium';
  if (existsSync(path)) {
    process.env.TEST_CHROMIUM = path;
    process.stdout.write(`Chromium suites: on (${path})\n`);
    return;
  }
  if (process.env.GANTRY_REQUIRE_CHROMIUM === '1')
    throw new Error(`Chromium is required for the tests but ${path} is missing: apt-get install -y chromium`);
  delete process.env.TEST_CHROMIUM;
  process.stdout.write(
    `\n*** Chromium suites: OFF — ${path} is missing. Install it with \`apt-get install -y chromium\`; CI always runs them.\n\n`,
  );
}

/**
 * `promtool check metrics` on the /metrics exposition, as Chromium: on when installed (Debian's
 * `prometheus` package ships it), required in CI (GANTRY_REQUIRE_PROMTOOL=1).
 */
function promtool(): void {
  const path = process.env.TEST_PROMTOOL ?? '/usr/bin/promtool';
  if (existsSync(path) && spawnSync(path, ['--version']).status === 0) {
    process.env.TEST_PROMTOOL = path;
    process.stdout.write(`promtool suites: on (${path})\n`);
    return;
  }
  if (process.env.GANTRY_REQUIRE_PROMTOOL === '1')
    throw new Error(
      `promtool is required for the tests but ${path} is missing: apt-get install -y --no-install-recommends prometheus`,
    );
  delete process.env.TEST_PROMTOOL;
  process.stdout.write(
    `\n*** promtool suites: OFF — ${path} is missing. Install it with \`apt-get install -y --no-install-recommends prometheus\`; CI always runs them.\n\n`,
  );
}

/**
 * The sandbox suites (real bubblewrap) as Chromium: on when `bwrap` works here, required in CI
 * (GANTRY_REQUIRE_BWRAP=1). Without it only the scrubbed-environment (`sandbox: off`) cases run.
 */
function sandbox(): void {
  const path = process.env.TEST_BWRAP ?? '/usr/bin/bwrap';
  const works =
    existsSync(path) &&
    spawnSync(path, ['--ro-bind', '/', '/', '--unshare-pid', '--proc', '/proc', 'true']).status === 0;
  if (works) {
    process.env.TEST_BWRAP = path;
    process.stdout.write(`Sandbox suites: on (${path})\n`);
    return;
  }
  if (process.env.GANTRY_REQUIRE_BWRAP === '1')
    throw new Error(
      `bubblewrap is required for the tests but ${path} is missing or does not work: apt-get install -y bubblewrap`,
    );
  delete process.env.TEST_BWRAP;
  process.stdout.write(
    `\n*** Sandbox suites: OFF — ${path} is missing or does not work. Install it with \`apt-get install -y bubblewrap\`; CI always runs them.\n\n`,
  );
}

const CONTAINERS_SETUP = fileURLToPath(new URL('../scripts/containers/setup.sh', import.meta.url));
/** What the container suites need; scripts/containers/setup.sh --env prints them all. */
const CONTAINER_VARS = [
  'DOCKER_HOST',
  'GANTRY_TEST_REGISTRY',
  'GANTRY_TEST_BASE_BUSYBOX',
  'GANTRY_TEST_BASE_NODE',
];

/**
 * The container suites (podman's Docker Engine API, a local registry, the gantry-base images) as
 * Chromium: on when scripts/containers/setup.sh can set them up here (or DOCKER_HOST and the
 * GANTRY_TEST_* variables already point at a working set-up), required in CI
 * (GANTRY_REQUIRE_CONTAINERS=1). The exports land in process.env, so the workers inherit them.
 */
async function containers(): Promise<void> {
  const required = process.env.GANTRY_REQUIRE_CONTAINERS === '1';
  const off = (reason: string): void => {
    if (required) throw new Error(`Containers are required for the tests but not available: ${reason}`);
    for (const name of CONTAINER_VARS) if (name !== 'DOCKER_HOST') delete process.env[name];
    process.stdout.write(
      `\n*** Container suites: OFF — ${reason}\n*** Run scripts/containers/setup.sh (as root it installs its packages); CI always runs them.\n\n`,
    );
  };
  if (!CONTAINER_VARS.every((name) => process.env[name])) {
    const installed = ['/usr/bin/podman', '/usr/bin/docker-registry'].every((path) => existsSync(path));
    // In CI the script runs anyway: it installs what is missing, or says why it cannot.
    if (!installed && !required) return off('podman or docker-registry is not installed.');
    const run = spawnSync('bash', [CONTAINERS_SETUP, '--env'], {
      encoding: 'utf8',
      timeout: 900_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (run.status !== 0) {
      const why = (run.stderr || run.error?.message || `exit ${run.status ?? run.signal}`).trim();
      return off(`scripts/containers/setup.sh failed:\n${why}`);
    }
    for (const [name, value] of parseExports(run.stdout)) process.env[name] = value;
  }
  const ping = await enginePing(process.env.DOCKER_HOST ?? '');
  if (ping !== null)
    return off(`the Docker Engine API on ${process.env.DOCKER_HOST} does not answer /_ping (${ping}).`);
  process.stdout.write(
    `Container suites: on (${process.env.DOCKER_HOST}, registry ${process.env.GANTRY_TEST_REGISTRY})\n`,
  );
}

/** `export NAME='value'` lines, as scripts/containers/setup.sh --env prints them. */
function parseExports(text: string): [string, string][] {
  const out: [string, string][] = [];
  for (const line of text.split('\n')) {
    const [, name, value] = /^export ([A-Za-z_][A-Za-z0-9_]*)='(.*)'$/.exec(line) ?? [];
    if (name && value !== undefined) out.push([name, value.replaceAll(`'\\''`, `'`)]);
  }
  return out;
}

/** null when the engine at `dockerHost` (unix:// or tcp://) answers OK to /_ping, else why not. */
function enginePing(dockerHost: string): Promise<string | null> {
  const target = dockerHost.startsWith('unix://')
    ? { socketPath: dockerHost.slice('unix://'.length) }
    : (() => {
        const u = new URL(dockerHost.replace(/^tcp:/, 'http:'));
        return { host: u.hostname, port: Number(u.port) || 2375 };
      })();
  return new Promise((resolve) => {
    const req = request({ ...target, path: '/_ping', timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve(res.statusCode === 200 ? null : `HTTP ${res.statusCode}: ${body.trim()}`));
    });
    req.on('timeout', () => req.destroy(new Error('timed out after 5 s')));
    req.on('error', (e) => resolve(e.message));
    req.end();
  });
}

async function dropRunSchemas(url: string, run: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await dropSchemasOf(client, run);
    // The test files' own databases (packages/server/test/support/engines.ts), those no file holds now.
    const { rows } = await client.query<{ name: string }>(
      "SELECT datname AS name FROM pg_database WHERE datname ~ '^gantry_test_[0-9]+$'",
    );
    for (const { name } of rows) {
      const slot = Number(name.slice('gantry_test_'.length));
      const held = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [
        LEASE_CLASS,
        slot,
      ]);
      if (!held.rows[0]?.ok) continue;
      const target = new URL(url);
      target.pathname = `/${name}`;
      const db = new pg.Client({ connectionString: target.toString() });
      try {
        await db.connect();
        await dropSchemasOf(db, run);
      } finally {
        await db.end().catch(() => undefined);
        await client.query('SELECT pg_advisory_unlock($1, $2)', [LEASE_CLASS, slot]);
      }
    }
  } finally {
    await client.end();
  }
}

/** The advisory lock class with which a test file holds its database (see engines.ts). */
const LEASE_CLASS = 0x67616e74;

async function dropSchemasOf(client: pg.Client, run: string): Promise<void> {
  const { rows } = await client.query<{ name: string }>(
    'SELECT nspname AS name FROM pg_namespace WHERE nspname LIKE $1',
    [`t\\_${run}\\_%`],
  );
  for (const { name } of rows) await client.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
}
