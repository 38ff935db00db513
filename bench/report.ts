import type { ApiListBuilds, EngineLoad } from './api-list-builds.js';
import type { BuildOverhead } from './build-overhead.js';
import { type CliStartupBench, cliStartupRows } from './cli-startup.js';
import { type ClusterTogglesResult, clusterTogglesRow } from './cluster-toggles.js';
import type { ConsoleBench } from './console.js';
import { consoleRows } from './console-report.js';
import type { ContainersBench } from './containers.js';
import { containersTable } from './containers-report.js';
import type { Machine } from './machine.js';
import type { MetricsBench } from './metrics-history.js';
import type { PackThroughput } from './pack-throughput.js';
import type { PushLatency } from './push-latency.js';
import type { QaGateBench } from './qa-gate.js';
import { qaGateRows } from './qa-gate-report.js';
import type { RollbackTime } from './rollback-time.js';
import type { SandboxOverhead } from './sandbox-overhead.js';
import { type ScaleOutResults, scaleOutRows } from './scale-out.js';
import type { SwitchLoad } from './switch-load.js';
import type { TagDeploy } from './tag-deploy.js';
import type { PropagationResult } from './toggle-propagation.js';
import { evaluatorRow, togglesTable } from './toggles-report.js';
import type { TogglesVsUnleash } from './toggles-vs-unleash.js';

export interface BenchResults {
  machine: Machine;
  /** The benchmarks asked for with --only; null for a full run. */
  only: string[] | null;
  pushLatency?: PushLatency;
  buildOverhead?: BuildOverhead;
  sandboxOverhead?: SandboxOverhead;
  packThroughput?: PackThroughput;
  apiListBuilds?: ApiListBuilds;
  rollback?: RollbackTime;
  tagDeploy?: TagDeploy;
  switchLoad?: SwitchLoad;
  /** The container driver and image builds; `skipped` with the reason where no engine or registry answers. */
  containers?: ContainersBench;
  toggles?: TogglesVsUnleash;
  togglePropagation?: PropagationResult;
  /** Toggle change → every streaming client of three servers on one PostgreSQL. */
  clusterToggles?: ClusterTogglesResult;
  scaleOut?: ScaleOutResults;
  metrics?: MetricsBench;
  console?: ConsoleBench;
  qaGate?: QaGateBench;
  cliStartup?: CliStartupBench;
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
  const s = r.sandboxOverhead;
  if (s)
    out.push(
      `| sandbox: a \`true\` step through bwrap vs plain \`sh -c\`, medians of ${s.runs} | ${ms(s.bwrapMedianMs)} vs ${ms(s.plainMedianMs)}: +${ms(s.addedMs)} | ≤ ${s.goalMs} ms added ${mark(s.meetsGoal)} |`,
    );
  const k = r.packThroughput;
  if (k)
    out.push(
      `| pack a ${k.mb} MB folder (half text, half random) | ${k.mbPerSec} MB/s (${ms(k.ms)}) | record |`,
    );
  out.push(...deploymentRows(r));
  if (r.toggles) out.push(evaluatorRow(r.toggles));
  if (r.togglePropagation) {
    const p = r.togglePropagation;
    const fmt = (x: PropagationResult['unleashStream']) => `${x.medianMs} / ${x.p95Ms} / ${x.maxMs} ms`;
    out.push(
      `| toggle change → connected client (Unleash streaming), median / p95 / max of ${p.changes} | ${fmt(p.unleashStream)} | < 1 s ${p.unleashStream.maxMs < p.goalMs ? '✅' : '❌'} |`,
      `| toggle change → OFREP refetch notice, median / p95 / max of ${p.changes} | ${fmt(p.ofrepNotice)} | < 1 s ${p.ofrepNotice.maxMs < p.goalMs ? '✅' : '❌'} |`,
    );
  }
  if (r.clusterToggles) out.push(clusterTogglesRow(r.clusterToggles));
  if (r.scaleOut) out.push(...scaleOutRows(r.scaleOut));
  if (r.qaGate) out.push(...qaGateRows(r.qaGate));
  if (r.console) out.push(...consoleRows(r.console));
  if (r.cliStartup) out.push(...cliStartupRows(r.cliStartup));
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
  if (r.containers)
    out.push(...containersTable(r.containers, { rollback: r.rollback, switchLoad: r.switchLoad }));
  if (r.toggles) out.push(...togglesTable(r.toggles));
  if (r.metrics) out.push(...metricsTable(r.metrics));
  for (const f of r.failures) out.push('', `**${f.bench} failed:** ${f.error.split('\n')[0]}`);
  return out.join('\n');
}

function deploymentRows(r: BenchResults): string[] {
  const rows: string[] = [];
  const rb = r.rollback;
  if (rb) {
    const w = rb.warm;
    const c = rb.cold;
    rows.push(
      `| rollback, warm standby: request accepted → old release serves ${rb.streak} requests in a row, median / p95 / max of ${w.rollbacks} | ${ms(w.medianMs)} / ${ms(w.p95Ms)} / ${ms(w.maxMs)} | p95 < 1 s ${mark(rb.warmMeetsGoal)} |`,
      `| rollback, cold (\`standby: 0\`, the old release boots), median / p95 of ${c.rollbacks} | ${ms(c.medianMs)} / ${ms(c.p95Ms)} | app boot + < 300 ms: ${mark(rb.coldMeetsGoal)} (+${ms(rb.coldOverheadMedianMs)} median, +${ms(rb.coldOverheadP95Ms)} p95) |`,
      `| … app boot on its own (\`sh -c "node server.js"\` → \`/healthz\` 200), median of ${rb.boot.boots} | ${ms(rb.boot.medianMs)} | record |`,
      `| rollback, warm standby, in a protected environment (2 approvals bound to the digest, frozen), median / p95 / max of ${rb.protected.rollbacks}; ratio to the unprotected one | ${ms(rb.protected.medianMs)} / ${ms(rb.protected.p95Ms)} / ${ms(rb.protected.maxMs)}; ×${rb.protectedRatio.median.toFixed(2)} median, ×${rb.protectedRatio.p95.toFixed(2)} p95 | p95 < 1 s ${mark(rb.protected.p95Ms < rb.warmGoalMs)} |`,
      ...(rb.typed
        ? [
            `| \`gantry rollback <env> --yes\` typed (the CLI spawned) → old release serves ${rb.streak} requests in a row, median / p95 / max of ${rb.typed.rollbacks}; the CLI's exit, median | ${ms(rb.typed.medianMs)} / ${ms(rb.typed.p95Ms)} / ${ms(rb.typed.maxMs)}; exit ${ms(rb.typed.exitMedianMs)} | p95 < ${rb.typed.goalMs} ms ${mark(rb.typed.p95Ms < rb.typed.goalMs)} |`,
          ]
        : []),
      `| … the rollback request itself (POST until it returns), median warm / cold | ${ms(w.requestMedianMs)} / ${ms(c.requestMedianMs)} | record |`,
      `| … phases of a warm rollback (medians) | ${phases(w.phasesMs)} | record |`,
      `| … phases of a cold rollback (medians) | ${phases(c.phasesMs)} | record |`,
    );
  }
  const t = r.tagDeploy;
  if (t) {
    rows.push(
      `| tag push → deployment finished (new release), median / max of ${t.deploys} | ${ms(t.medianMs)} / ${ms(t.maxMs)} | record |`,
      `| … push returned → requested / → started / → finished (medians) | ${ms(t.toRequestedMedianMs)} / ${ms(t.toStartedMedianMs)} / ${ms(t.runMedianMs)} | record |`,
      `| phases of a deployment of a new release (medians of ${t.deploys}) | ${phases(t.phasesMs)} | record |`,
    );
  }
  const l = r.switchLoad;
  if (l) {
    for (const run of l.runs) {
      const what =
        run.standby === 0
          ? `… the same with \`standby: 0\` (each switch stops the release that served), ${run.switches} switches`
          : `failed requests, ${l.clients} keep-alive clients looping \`GET /\` during ${run.switches} deploy / rollback switches`;
      rows.push(
        `| ${what} | ${run.failed} of ${run.requests.toLocaleString('en')} (${run.requestsPerSec} req/s) | 0 ${mark(run.failed === 0)} |`,
      );
    }
  }
  return rows;
}

function phases(p: Record<string, number>): string {
  const names = Object.keys(p);
  return names.length ? `${names.map((n) => `${n} ${Math.round(p[n]!)}`).join(' · ')} ms` : '–';
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

function metricsTable(m: MetricsBench): string[] {
  const out = [
    '',
    `All metrics of one app's production over one year, per week (\`GET /api/metrics\`): ${m.deployments.toLocaleString('en')} deployments, ` +
      `${m.commits.toLocaleString('en')} commits, with rollbacks, reverts, incidents and one build per deployment (goal: < ${m.goalMs / 1000} s). ` +
      `The ledger facts were recorded in bulk first; "live record" is one more deployment recorded as a running server does it.`,
    '',
    '| Engine | report, first | median | max | of | live record | seed tables | ledger (bulk) | same report as the engine |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const e of m.engines) {
    out.push(
      `| ${e.engine} | ${ms(e.firstMs)} | ${ms(e.medianMs)} ${e.medianMs < m.goalMs ? '✅' : '❌'} | ${ms(e.maxMs)} | ${e.reportMs.length} | ${ms(e.liveRecordMedianMs)} | ${(e.seedMs / 1000).toFixed(1)} s | ${(e.ledgerMs / 1000).toFixed(1)} s | ${e.check.matchesEngine ? 'yes' : '**no**'} |`,
    );
  }
  out.push(
    '',
    `The engine alone, from the events list in memory (all three stages, commit graph walked): ${(m.inMemoryMs / 1000).toFixed(1)} s.`,
  );
  for (const skip of m.skipped) out.push('', `${skip.engine} skipped: ${skip.reason}`);
  return out;
}
