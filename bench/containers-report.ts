import type { ContainersBench } from './containers.js';
import type { RollbackSeries, RollbackTime } from './rollback-time.js';
import type { LoadRun, SwitchLoad } from './switch-load.js';

/** The process driver's figures of the same run (`rollback`, `switch-load`), when they ran. */
export interface ProcessFigures {
  rollback?: RollbackTime;
  switchLoad?: SwitchLoad;
}

/** The container driver beside the process driver, and Gantry's image build beside podman by hand. */
export function containersTable(c: ContainersBench, p: ProcessFigures): string[] {
  if (c.skipped) return ['', `containers skipped: ${c.skipped}`];
  const out = [
    '',
    `Containers: \`driver: container\` on ${c.engine ?? 'the engine'}, images built from \`${c.base}\` with the artifact folder ` +
      `(\`build.image.base\`) and pushed to ${c.registry?.split('/')[0]} (plain HTTP); the same app, method and counts as the ` +
      'process driver above, whose figures from this run are beside them (– where that benchmark did not run):',
    '',
    '| Figure | Container driver | Process driver | Container ÷ process | Goal |',
    '| --- | --- | --- | ---: | --- |',
  ];
  const rc = c.rollback;
  const rp = p.rollback;
  if (rc) {
    const w = rc.warm;
    out.push(
      `| rollback, warm standby: request accepted → old release serves ${rc.streak} in a row, median / p95 of ${w.rollbacks} | ${pair(w.medianMs, w.p95Ms)} | ${rp ? pair(rp.warm.medianMs, rp.warm.p95Ms) : '–'} | ${ratio(w.medianMs, rp?.warm.medianMs)} / ${ratio(w.p95Ms, rp?.warm.p95Ms)} | p95 < 1 s ${mark(rc.warmMeetsGoal)} |`,
      `| rollback, cold (\`standby: 0\`), median / p95 of ${rc.cold.rollbacks} | ${pair(rc.cold.medianMs, rc.cold.p95Ms)} | ${rp ? pair(rp.cold.medianMs, rp.cold.p95Ms) : '–'} | ${ratio(rc.cold.medianMs, rp?.cold.medianMs)} | record |`,
      `| … the release's own start without Gantry, median of ${rc.boot.boots} (container: create + start → \`/healthz\` 200 through the engine API, then removed; process: \`sh -c "node server.js"\`) | ${ms(rc.boot.medianMs)} | ${rp ? ms(rp.boot.medianMs) : '–'} | ${ratio(rc.boot.medianMs, rp?.boot.medianMs)} | record |`,
      `| … cold rollback overhead beyond that start (cold median − own start median) | +${ms(rc.coldOverheadMedianMs)} | ${rp ? `+${ms(rp.coldOverheadMedianMs)}` : '–'} | ${ratio(rc.coldOverheadMedianMs, rp?.coldOverheadMedianMs)} | record |`,
      `| … phases of a warm rollback (medians) | ${phases(w)} | ${rp ? phases(rp.warm) : '–'} | | record |`,
      `| … phases of a cold rollback (medians) | ${phases(rc.cold)} | ${rp ? phases(rp.cold) : '–'} | | record |`,
    );
  }
  const lc = c.switchLoad;
  if (lc) {
    for (const run of lc.runs) {
      const proc = p.switchLoad?.runs.find((r) => r.standby === run.standby);
      const what =
        run.standby === 0
          ? `… the same with \`standby: 0\`, ${run.switches} switches (process: ${proc?.switches ?? '–'})`
          : `failed requests, ${lc.clients} keep-alive clients looping \`GET /\` during ${run.switches} deploy / rollback switches`;
      out.push(`| ${what} | ${load(run)} | ${proc ? load(proc) : '–'} | | 0 ${mark(run.failed === 0)} |`);
    }
  }
  const b = c.imageBuild;
  if (b) {
    out.push(
      `| image build + push: Gantry's \`image\` step vs \`podman build\` + \`podman push\` of the same context and Dockerfile by hand, medians of ${b.runs} alternating | ${ms(b.imageStepMedianMs)} vs ${ms(b.handMedianMs)} | | ${b.ratio}× | ≤ ${b.goalRatio}× ${mark(b.meetsGoal)} |`,
      `| … by hand: \`podman build\` / \`podman push\` (medians) | ${ms(b.handBuildMedianMs)} / ${ms(b.handPushMedianMs)} | | | record |`,
      `| … Gantry's whole build (checkout, \`package\` step, \`image\` step, record), median | ${ms(b.buildMedianMs)} | | | record |`,
    );
  }
  return out;
}

function load(run: LoadRun): string {
  return `${run.failed} of ${run.requests.toLocaleString('en')} (${run.requestsPerSec} req/s)`;
}

function phases(s: RollbackSeries): string {
  const p = s.phasesMs;
  const names = Object.keys(p);
  return names.length ? `${names.map((n) => `${n} ${Math.round(p[n]!)}`).join(' · ')} ms` : '–';
}

function pair(a: number, b: number): string {
  return `${ms(a)} / ${ms(b)}`;
}

function ratio(a: number, b: number | undefined): string {
  return b === undefined || b <= 0 ? '–' : `${(a / b).toFixed(1)}×`;
}

function mark(ok: boolean): string {
  return ok ? '✅' : '❌';
}

function ms(n: number): string {
  return `${Math.round(n)} ms`;
}
