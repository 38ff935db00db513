import { execFile, spawn } from 'node:child_process';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  installPacked,
  localPrebuilds,
  packGantry,
  productionTree,
  REPO,
  sizeOf,
} from '../packages/cli/test/support/packed-install.js';
import { freePort } from '../packages/server/src/drivers/process/free-port.js';
import { median, percentile, Scope } from './support.js';

const run = promisify(execFile);

export interface Timing {
  runs: number;
  medianMs: number;
  p95Ms: number;
  maxMs: number;
}

export interface CliStartupBench {
  pack: { ms: number; tarballBytes: number; unpackedBytes: number; files: number; dependencies: number };
  install: {
    /** `npm install <tgz>` in an empty folder, npm's cache warm, better-sqlite3 from a local prebuild. */
    prebuiltMs: number;
    /** The same with better-sqlite3 compiled from source (what an install here does without one). */
    fromSourceMs: number | null;
    /** node_modules of the install: bytes and packages (`npm ls --omit=dev --all`). */
    bytes: number;
    packages: number;
    /** The clone's node_modules after `npm ci` (dev tooling included), for comparison. */
    cloneBytes: number;
  };
  /** `gantry --help`, spawn → exit; the clone's compiled CLI only while its build is newer than its sources. */
  help: { installed: Timing; cloneCompiled: Timing | null; cloneSources: Timing };
  /** `gantry status` against a running server with one app, spawn → exit (installed package). */
  status: Timing;
  loadAverage: number;
  goals: { helpMs: number; statusMs: number };
}

function timing(samples: number[]): Timing {
  return {
    runs: samples.length,
    medianMs: Math.round(median(samples)),
    p95Ms: Math.round(percentile(samples, 95)),
    maxMs: Math.round(Math.max(...samples)),
  };
}

/** `node <bin> args` `n` times one after another, after one warm-up run; ms from spawn to exit. */
async function timeRuns(
  bin: string,
  args: string[],
  n: number,
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<Timing> {
  const once = async () => {
    const started = performance.now();
    await run(process.execPath, [bin, ...args], { env, cwd, maxBuffer: 16 * 1024 ** 2 });
    return performance.now() - started;
  };
  await once();
  const samples: number[] = [];
  for (let i = 0; i < n; i++) samples.push(await once());
  return timing(samples);
}

async function newestIn(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true }))
    if (entry.isFile()) newest = Math.max(newest, (await stat(join(entry.parentPath, entry.name))).mtimeMs);
  return newest;
}

/** bin/gantry.js's rule: the clone runs its compiled CLI only while that is newer than the sources. */
async function cloneBuildIsFresh(): Promise<boolean> {
  const built = await stat(join(REPO, 'packages/cli/dist/built.json')).then(
    (s) => s.mtimeMs,
    () => 0,
  );
  const sources = ['cli', 'contracts', 'driver-api'].map((p) => join(REPO, 'packages', p, 'src'));
  return (await Promise.all(sources.map(newestIn))).every((t) => t <= built);
}

/**
 * Packs Gantry (`npm run pack`), installs it into an empty folder and times what a person waits for:
 * `gantry --help` (installed, and in a clone compiled or from sources: the start-up before packaging),
 * `gantry status` against a running server, the install itself, and its size on disk.
 */
export async function benchCliStartup(
  runs = 20,
  opts: { fromSource?: boolean } = {},
): Promise<CliStartupBench> {
  const scope = new Scope();
  try {
    const dir = await scope.tempDir('cli');
    const packed = await packGantry(join(dir, 'pack'));
    const prebuilt = await installPacked(
      packed.tarball,
      join(dir, 'install'),
      await localPrebuilds(join(dir, 'prebuilds')),
    );
    const fromSource =
      opts.fromSource === false
        ? null
        : (
            await installPacked(packed.tarball, join(dir, 'install-from-source'), {
              npm_config_build_from_source: 'true',
            })
          ).ms;
    const packages = (await productionTree(prebuilt.dir)).size;

    const xdg = join(dir, 'xdg');
    const cwd = join(dir, 'cwd');
    await mkdir(cwd, { recursive: true });
    const env: NodeJS.ProcessEnv = { ...process.env, XDG_CONFIG_HOME: xdg, NO_COLOR: '1' };
    for (const k of Object.keys(env)) if (k.startsWith('GANTRY_')) delete env[k];
    const loadAverage = loadavg()[0]!;
    const cloneBin = join(REPO, 'packages/cli/bin/gantry.js');
    const help = {
      installed: await timeRuns(prebuilt.bin, ['--help'], runs, env, cwd),
      cloneCompiled: (await cloneBuildIsFresh())
        ? await timeRuns(cloneBin, ['--help'], runs, env, cwd)
        : null,
      cloneSources: await timeRuns(cloneBin, ['--help'], 5, { ...env, GANTRY_CLI_FROM_SOURCES: '1' }, cwd),
    };

    // A server from the installed package, with one app, and `gantry status` from another folder.
    const port = await freePort();
    const server = spawn(
      process.execPath,
      [prebuilt.bin, 'server', '--data-dir', join(dir, 'data'), '--port', String(port)],
      {
        env: { ...env, GANTRY_LOG_LEVEL: 'warn', GANTRY_POLL_INTERVAL_MS: '0' },
        cwd: dir,
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    scope.defer(async () => {
      server.kill('SIGTERM');
      await new Promise((r) => server.once('exit', r));
    });
    await new Promise<void>((resolve, reject) => {
      let out = '';
      server.stdout!.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        if (out.includes('finds this server from any folder')) resolve();
      });
      server.once('exit', (code) => reject(new Error(`gantry server exited ${code}: ${out}`)));
    });
    const repo = join(dir, 'repo');
    await mkdir(repo);
    const git = (...args: string[]) =>
      run('git', ['-c', 'user.name=Bench', '-c', 'user.email=bench@example.com', ...args], {
        cwd: repo,
        env: { ...env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' },
      });
    await git('init', '--quiet', '--initial-branch=main');
    await writeFile(
      join(repo, 'gantry.yaml'),
      'build:\n  steps:\n    - { name: ok, run: "true" }\n  artifact: { path: . }\n',
    );
    await git('add', '--all');
    await git('commit', '--quiet', '-m', 'first');
    await run(process.execPath, [prebuilt.bin, 'app', 'add', 'shop', repo, '--poll', '0'], { env, cwd });
    const status = await timeRuns(prebuilt.bin, ['status'], runs, env, cwd);

    return {
      pack: {
        ms: packed.ms,
        tarballBytes: packed.sizeBytes,
        unpackedBytes: packed.unpackedBytes,
        files: packed.files,
        dependencies: Object.keys(packed.dependencies).length,
      },
      install: {
        prebuiltMs: prebuilt.ms,
        fromSourceMs: fromSource,
        bytes: await sizeOf(join(prebuilt.dir, 'node_modules')),
        packages,
        cloneBytes: await sizeOf(join(REPO, 'node_modules')),
      },
      help,
      status,
      loadAverage: Math.round(loadAverage * 10) / 10,
      goals: { helpMs: 150, statusMs: 300 },
    };
  } finally {
    await scope.close();
  }
}

const MB = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(1)} MB`;
const ms = (n: number) => `${Math.round(n)} ms`;
const mark = (ok: boolean) => (ok ? '✅' : '❌');
const t = (x: Timing) => `${ms(x.medianMs)} / ${ms(x.p95Ms)}`;

/** The rows of the results table (issue 16: packaging). */
export function cliStartupRows(c: CliStartupBench): string[] {
  const { help, status, install, pack } = c;
  return [
    `| \`gantry --help\`, installed package, spawn → exit, median / p95 of ${help.installed.runs} (load average ${c.loadAverage}) | ${t(help.installed)} | < ${c.goals.helpMs} ms ${mark(help.installed.medianMs < c.goals.helpMs)} |`,
    `| … in a clone, compiled (bin/gantry.js checks the sources are older) · from the TypeScript sources through tsx (before packaging) | ${help.cloneCompiled ? t(help.cloneCompiled) : '– (the build is older than the sources)'} · ${t(help.cloneSources)} | record |`,
    `| \`gantry status\` against a running server (one app), installed package, median / p95 of ${status.runs} | ${t(status)} | < ${c.goals.statusMs} ms ${mark(status.medianMs < c.goals.statusMs)} |`,
    `| \`npm run pack\`: tarball · unpacked · files · dependencies | ${MB(pack.tarballBytes)} · ${MB(pack.unpackedBytes)} · ${pack.files} · ${pack.dependencies} | record |`,
    `| installed (\`npm install gantry-*.tgz\` in an empty folder): node_modules · packages; a clone's node_modules after \`npm ci\` | ${MB(install.bytes)} · ${install.packages}; ${MB(install.cloneBytes)} | record |`,
    `| … install time, npm cache warm: better-sqlite3 prebuilt · compiled from source | ${ms(install.prebuiltMs)} · ${install.fromSourceMs === null ? '–' : ms(install.fromSourceMs)} | record |`,
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await benchCliStartup(Number(process.argv[2] ?? 20), {
    fromSource: !process.argv.includes('--no-from-source'),
  });
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
