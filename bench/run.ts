import { execFile, execFileSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { benchApiListBuilds } from './api-list-builds.js';
import { benchBuildOverhead } from './build-overhead.js';
import { benchCliStartup } from './cli-startup.js';
import { benchClusterToggles } from './cluster-toggles.js';
import { benchConsole } from './console.js';
import { benchContainers } from './containers.js';
import { describeMachine } from './machine.js';
import { benchMetrics } from './metrics-history.js';
import { benchPackThroughput } from './pack-throughput.js';
import { benchPushLatency } from './push-latency.js';
import { benchQaGate } from './qa-gate.js';
import { type BenchResults, renderResults } from './report.js';
import { benchRollbackTime } from './rollback-time.js';
import { benchSandboxOverhead } from './sandbox-overhead.js';
import { benchScaleOut } from './scale-out.js';
import { Scope } from './support.js';
import { benchSwitchLoad } from './switch-load.js';
import { benchTagDeploy } from './tag-deploy.js';
import { benchTogglePropagation } from './toggle-propagation.js';
import { benchTogglesVsUnleash } from './toggles-vs-unleash.js';

const BENCHES: { name: string; run(r: BenchResults): Promise<void> }[] = [
  {
    name: 'push-latency',
    async run(r) {
      r.pushLatency = await benchPushLatency(20);
    },
  },
  {
    name: 'build-overhead',
    async run(r) {
      r.buildOverhead = await benchBuildOverhead(20);
    },
  },
  {
    name: 'sandbox-overhead',
    async run(r) {
      r.sandboxOverhead = await benchSandboxOverhead(30);
    },
  },
  {
    name: 'pack-throughput',
    async run(r) {
      r.packThroughput = await benchPackThroughput(100);
    },
  },
  {
    name: 'rollback',
    async run(r) {
      r.rollback = await benchRollbackTime(20, 20);
    },
  },
  {
    name: 'tag-deploy',
    async run(r) {
      r.tagDeploy = await benchTagDeploy(10);
    },
  },
  {
    name: 'switch-load',
    async run(r) {
      r.switchLoad = await benchSwitchLoad(20, 10);
    },
  },
  {
    // After rollback and switch-load, whose figures of this run the report puts beside these.
    name: 'containers',
    async run(r) {
      r.containers = {};
      await benchContainers(r.containers);
      if (r.containers.skipped) process.stdout.write(`skipped (${r.containers.skipped}) `);
    },
  },
  {
    name: 'api-list-builds',
    async run(r) {
      r.apiListBuilds = await benchApiListBuilds();
    },
  },
  {
    name: 'toggles',
    async run(r) {
      r.toggles = await benchTogglesVsUnleash();
    },
  },
  {
    name: 'metrics',
    async run(r) {
      r.metrics = await benchMetrics();
    },
  },
  {
    name: 'toggle-live',
    async run(r) {
      r.togglePropagation = await benchTogglePropagation(20);
    },
  },
  {
    // GANTRY_BENCH_CLUSTER_CLIENTS: how many streaming clients (default 3000; the goal names 10,000).
    name: 'cluster-toggles',
    async run(r) {
      r.clusterToggles = await benchClusterToggles(
        Number(process.env.GANTRY_BENCH_CLUSTER_CLIENTS ?? 3000),
        10,
      );
      if (r.clusterToggles.skipped) process.stdout.write(`skipped (${r.clusterToggles.skipped}) `);
    },
  },
  {
    // GANTRY_BENCH_SCALE_APPS / _PUSHES / _CLIENTS: the issue names 200 apps, a push a second for 5
    // minutes, and 10,000 SDK clients (here as many streaming and as many polling).
    name: 'scale-out',
    async run(r) {
      const scope = new Scope();
      try {
        r.scaleOut = await benchScaleOut(scope, {
          apps: Number(process.env.GANTRY_BENCH_SCALE_APPS ?? 20),
          pushes: Number(process.env.GANTRY_BENCH_SCALE_PUSHES ?? 60),
          pushEveryMs: 1000,
          streams: Number(process.env.GANTRY_BENCH_SCALE_CLIENTS ?? 1000),
          pollers: Number(process.env.GANTRY_BENCH_SCALE_CLIENTS ?? 1000),
        });
      } finally {
        await scope.close();
      }
    },
  },
  {
    name: 'qa-gate',
    async run(r) {
      r.qaGate = await benchQaGate();
    },
  },
  {
    name: 'console',
    async run(r) {
      r.console = await benchConsole();
    },
  },
  {
    name: 'cli-startup',
    async run(r) {
      r.cliStartup = await benchCliStartup(20);
    },
  },
];
const NAMES = BENCHES.map((b) => b.name);
const RESULTS_FILE = new URL('./results/latest.json', import.meta.url);
const BIOME = new URL('../node_modules/.bin/biome', import.meta.url);
const DOCS_FILE = new URL('../docs/benchmarks.md', import.meta.url);
const START = '<!-- bench:start -->';
const END = '<!-- bench:end -->';

const USAGE = `usage: npm run bench -- [--only <name>[,<name>…]] [--write-docs]
  benchmarks: ${NAMES.join(', ')}
  --write-docs  also replace the results in docs/benchmarks.md (full runs only)`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string', multiple: true },
      'write-docs': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const only = values.only?.flatMap((o) => o.split(',')).map((o) => o.trim()) ?? null;
  const unknown = only?.filter((o) => !NAMES.includes(o)) ?? [];
  if (unknown.length) {
    console.error(`unknown benchmark ${unknown.join(', ')}\n${USAGE}`);
    return 2;
  }
  if (only && values['write-docs']) {
    console.error('--write-docs needs a full run, so the docs never mix numbers from different runs');
    return 2;
  }

  const started = performance.now();
  console.log('machine …');
  const results: BenchResults = { machine: await describeMachine(), only, failures: [], totalSec: 0 };
  for (const bench of BENCHES) {
    if (interrupted) break;
    if (only && !only.includes(bench.name)) continue;
    const t = performance.now();
    process.stdout.write(`${bench.name} … `);
    try {
      await bench.run(results);
      console.log(`${((performance.now() - t) / 1000).toFixed(1)} s`);
    } catch (err) {
      if (interrupted) break;
      console.log('failed');
      console.error(err);
      results.failures.push({ bench: bench.name, error: err instanceof Error ? err.message : String(err) });
    }
  }
  if (interrupted) return 130;
  results.totalSec = Math.round((performance.now() - started) / 1000);

  const text = formatMarkdown(renderResults(results));
  console.log(`\n${text}\n`);
  await mkdir(new URL('.', RESULTS_FILE), { recursive: true });
  await writeFile(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
  // Formatted as the repo's linter wants it, so `npm run lint` stays clean after a run.
  await promisify(execFile)(fileURLToPath(BIOME), ['format', '--write', fileURLToPath(RESULTS_FILE)]).catch(
    (err: unknown) => console.error('could not format the results file:', err),
  );
  console.log('wrote bench/results/latest.json');
  if (values['write-docs']) {
    if (results.failures.length) {
      console.error('not writing docs/benchmarks.md: some benchmarks failed');
    } else {
      await writeDocs(text);
      console.log('updated docs/benchmarks.md');
    }
  }
  return results.failures.length ? 1 : 0;
}

async function writeDocs(table: string): Promise<void> {
  const doc = await readFile(DOCS_FILE, 'utf8');
  const from = doc.indexOf(START);
  const to = doc.indexOf(END);
  if (from < 0 || to < from) throw new Error(`docs/benchmarks.md has no ${START} … ${END} section`);
  await writeFile(
    DOCS_FILE,
    formatMarkdown(`${doc.slice(0, from + START.length)}\n${table}\n${doc.slice(to)}`),
  );
}

/** Through the repo's formatter, which aligns tables (also for the terminal) and keeps lint clean. */
function formatMarkdown(text: string): string {
  try {
    return execFileSync(fileURLToPath(BIOME), ['format', '--stdin-file-path=benchmarks.md'], {
      input: text,
      encoding: 'utf8',
    });
  } catch {
    return text;
  }
}

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = true;
    console.error(`\n${signal}: cleaning up …`);
    void Scope.closeAll().finally(() => process.exit(130));
  });
}

process.exitCode = await main().catch(async (err: unknown) => {
  console.error(err);
  await Scope.closeAll();
  return 1;
});
