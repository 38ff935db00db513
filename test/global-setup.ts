import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
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
  browser();
  sandbox();
  promtool();
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

async function dropRunSchemas(url: string, run: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string }>(
      'SELECT nspname AS name FROM pg_namespace WHERE nspname LIKE $1',
      [`t\\_${run}\\_%`],
    );
    for (const { name } of rows) await client.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
  } finally {
    await client.end();
  }
}
