import type { QaGateBench } from './qa-gate.js';

const ms = (n: number) => `${Math.round(n)} ms`;
const mark = (ok: boolean) => (ok ? '✅' : '❌');

/** The QA gate's rows of the results table (issue 14). */
export function qaGateRows(q: QaGateBench): string[] {
  const r = q.rollback;
  const v = q.revert;
  const f = q.flaky;
  return [
    `| failing check → previous release serving (every request, probed each 5 ms), median / max of ${r.runs} | ${ms(r.medianMs)} / ${ms(r.maxMs)} | < 1 s after the failure is detected ${mark(r.meetsGoal)} |`,
    `| bad commit pushed → revert pushed, beyond the checks' own run time, median / max of ${v.runs} | ${ms(v.overheadMedianMs)} / ${ms(v.overheadMaxMs)} (whole: ${ms(v.totalMedianMs)}, of which checks ${ms(v.checksMedianMs)}) | < 5 s ${mark(v.meetsGoal)} |`,
    `| innocent commits whose check fails ${Math.round(f.failRate * 100)} % of the time (retries: ${f.retries}): failed verifications / wrong reverts in ${f.runs} | ${f.checkFailedSeen} / ${f.wrongRevertsSeen} (predicted ${f.checkFailedPredicted} / ${f.wrongRevertsPredicted}; ${f.skippedAsFlaky} skipped as not repeating after the guard, ${f.skippedOther} as a broken QA) | no more wrong reverts than predicted (0 in ${f.runs}) ${mark(f.meetsGoal)} |`,
  ];
}
