import type { ApiListBuilds, EngineLoad } from './api-list-builds.js';
import type { BuildOverhead } from './build-overhead.js';
import type { Machine } from './machine.js';
import type { PackThroughput } from './pack-throughput.js';
import type { PushLatency } from './push-latency.js';

export interface BenchResults {
  machine: Machine;
  /** The benchmarks asked for with --only; null for a full run. */
  only: string[] | null;
  pushLatency?: PushLatency;
  buildOverhead?: BuildOverhead;
  packThroughput?: PackThroughput;
  apiListBuilds?: ApiListBuilds;
  failures: { bench: string; error: string }[];
  totalSec: number;
}

/** The results as Markdown: what goes between the bench markers in docs/benchmarks.md. */
export function renderResults(r: BenchResults): string {
  const m = r.machine;
  const out = [
    `Measured ${m.date.slice(0, 16).replace('T', ' ')} UTC on ${m.cpu} (${m.cores} cores, ${m.memoryGiB} GiB), ` +
      `Node ${m.node}, SQLite ${m.sqlite}, ${m.postgres.split(' on ')[0]}, git ${m.git}; ` +
      `spawning \`git --version\` from Node takes ${m.gitSpawnMs} ms here. Whole run: ${r.totalSec} s.`,
    '',
    '| Figure | Result | Goal |',
    '| --- | --- | --- |',
  ];
  const p = r.pushLatency;
  if (p) {
    out.push(
      `| push → build started (hook), median / max of ${p.pushes} | ${ms(p.medianMs)} / ${ms(p.maxMs)} | < 1 s: median ${mark(p.medianMeetsGoal)}, max ${mark(p.maxMeetsGoal)} |`,
      `| push → build queued, median | ${ms(p.queuedMedianMs)} | record |`,
      `| \`git push\` itself (hook included), median | ${ms(p.pushMedianMs)} | record |`,
    );
  }
  const b = r.buildOverhead;
  if (b) {
    out.push(
      `| build overhead (one \`true\` step): started → finished, median / max of ${b.builds} | ${ms(b.runMedianMs)} / ${ms(b.runMaxMs)} | record |`,
      `| … of which checkout / \`true\` step / pack + record (medians) | ${b.phases.checkoutMs} / ${b.phases.stepMs} / ${b.phases.packAndRecordMs} ms | record |`,
      `| build queued → started, median / max | ${ms(b.queuedToStartedMedianMs)} / ${ms(b.queuedToStartedMaxMs)} | record |`,
    );
  }
  const k = r.packThroughput;
  if (k)
    out.push(
      `| pack a ${k.mb} MB folder (half text, half random) | ${k.mbPerSec} MB/s (${ms(k.ms)}) | record |`,
    );
  const a = r.apiListBuilds;
  if (a) {
    const sqlite = a.engines.find((e) => e.engine === 'sqlite');
    const postgres = a.engines.find((e) => e.engine === 'postgres');
    out.push(
      '',
      `\`GET /api/builds\` with ${a.builds.toLocaleString('en')} builds stored (4 apps), 50 per page, ` +
        `${a.connections} connections for ${a.durationSec} s after a warm-up (goal: record):`,
      '',
      '| Request | SQLite req/s | p50 | p99 | PostgreSQL req/s | p50 | p99 | SQLite ÷ PostgreSQL req/s |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    const paths = (sqlite ?? postgres)?.endpoints.map((e) => e.path) ?? [];
    for (const path of paths) {
      const s = endpoint(sqlite, path);
      const g = endpoint(postgres, path);
      const ratio = s && g ? `${(s.requestsPerSec / g.requestsPerSec).toFixed(2)}×` : '–';
      out.push(`| \`${path}\` | ${load(s)} | ${load(g)} | ${ratio} |`);
    }
    for (const skip of a.skipped) out.push('', `${skip.engine} skipped: ${skip.reason}`);
  }
  for (const f of r.failures) out.push('', `**${f.bench} failed:** ${f.error.split('\n')[0]}`);
  return out.join('\n');
}

function endpoint(engine: EngineLoad | undefined, path: string) {
  return engine?.endpoints.find((e) => e.path === path);
}

function load(e: ReturnType<typeof endpoint>): string {
  if (!e) return '– | – | –';
  return `${e.requestsPerSec.toLocaleString('en')} | ${e.p50Ms} ms | ${e.p99Ms} ms`;
}

function mark(ok: boolean): string {
  return ok ? '✅' : '❌';
}

function ms(n: number): string {
  return `${Math.round(n)} ms`;
}
