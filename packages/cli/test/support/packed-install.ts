import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const REPO = resolve(fileURLToPath(new URL('../../../..', import.meta.url)));

/** What `node scripts/pack.mjs --json` prints. */
export interface PackResult {
  tarball: string;
  name: string;
  version: string;
  dependencies: Record<string, string>;
  sizeBytes: number;
  unpackedBytes: number;
  files: number;
  ms: number;
}

/**
 * `npm run pack` into `outDir`: the CLI and the server compiled there, the console taken from
 * packages/web/dist when it is built (npm test builds it before the suites run).
 */
export async function packGantry(outDir: string): Promise<PackResult> {
  const { stdout } = await run(
    process.execPath,
    [join(REPO, 'scripts/pack.mjs'), '--reuse-console', '--json', '--out', outDir],
    { cwd: REPO, maxBuffer: 16 * 1024 ** 2 },
  );
  return JSON.parse(stdout) as PackResult;
}

/**
 * better-sqlite3 installs through prebuild-install, which downloads a prebuilt binary from GitHub and
 * compiles SQLite from source when that fails (here GitHub is unreachable: a compile of minutes on
 * two cores). prebuild-install first looks for the same file in a folder of local prebuilds
 * (`npm_config_better_sqlite3_local_prebuilds`): this makes that file from the clone's own build of
 * the same version for this Node ABI, so an install does everything a user's install does but the
 * download. Returns the environment variables that point npm at it.
 */
export async function localPrebuilds(dir: string): Promise<Record<string, string>> {
  const pkgDir = join(REPO, 'node_modules/better-sqlite3');
  const { version } = JSON.parse(await readFile(join(pkgDir, 'package.json'), 'utf8')) as { version: string };
  const file = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  await mkdir(dir, { recursive: true });
  await run('tar', ['-czf', join(dir, file), '-C', pkgDir, 'build/Release/better_sqlite3.node']);
  return { npm_config_better_sqlite3_local_prebuilds: dir };
}

export interface Installed {
  /** The folder `npm install` ran in. */
  dir: string;
  /** node_modules/gantry/bin/gantry.js */
  bin: string;
  ms: number;
}

/**
 * `npm install <tarball>` in an empty folder, as a user installs it: dependencies from the registry
 * or npm's cache (--prefer-offline), install scripts run.
 */
export async function installPacked(
  tarball: string,
  dir: string,
  env: Record<string, string> = {},
): Promise<Installed> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'package.json'), '{ "private": true }\n');
  const started = performance.now();
  await run(
    'npm',
    ['install', '--prefer-offline', '--no-audit', '--no-fund', '--omit=dev', '--loglevel=error', tarball],
    { cwd: dir, env: { ...process.env, ...env }, maxBuffer: 16 * 1024 ** 2, timeout: 900_000 },
  );
  return {
    dir,
    bin: join(dir, 'node_modules/gantry/bin/gantry.js'),
    ms: Math.round(performance.now() - started),
  };
}

/** Every package name in `npm ls --omit=dev --all` of an install. */
export async function productionTree(dir: string): Promise<Set<string>> {
  const { stdout } = await run('npm', ['ls', '--omit=dev', '--all', '--json'], {
    cwd: dir,
    maxBuffer: 64 * 1024 ** 2,
  });
  const names = new Set<string>();
  const walk = (deps: Record<string, { dependencies?: Record<string, unknown> }> | undefined) => {
    for (const [name, node] of Object.entries(deps ?? {})) {
      names.add(name);
      walk(node.dependencies as Record<string, { dependencies?: Record<string, unknown> }> | undefined);
    }
  };
  walk(
    (JSON.parse(stdout) as { dependencies?: Record<string, { dependencies?: Record<string, unknown> }> })
      .dependencies,
  );
  return names;
}

/** Bytes of every file under `dir` (apparent sizes, as `du --apparent-size -b`). */
export async function sizeOf(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}
