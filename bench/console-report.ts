import type { ConsoleBench } from './console.js';

const kB = (bytes: number) => `${(bytes / 1000).toFixed(1)} kB`;
const ms = (n: number) => `${Math.round(n)} ms`;
const mark = (ok: boolean) => (ok ? '✅' : '❌');

/** The web console's rows of the results table (issue 13). */
export function consoleRows(c: ConsoleBench): string[] {
  const { bundle: s, board: b, live: l } = c;
  const largest = s.largest
    .filter((f) => !f.initial)
    .map((f) => `${f.file.replace(/^assets\//, '')} ${kB(f.gzip)}`)
    .join(', ');
  const p = b.phases;
  return [
    `| console: JavaScript a first visit of the board loads (entry + modulepreloads, ${s.initialJs.files.length} file${s.initialJs.files.length === 1 ? '' : 's'}), gzip | ${kB(s.initialJs.gzip)} (${kB(s.initialJs.raw)} raw, ${kB(s.initialJs.gzip9)} at -9) | ≤ ${kB(s.goalBytes)} ${mark(s.initialJs.gzip <= s.goalBytes)} |`,
    `| … its CSS, gzip | ${kB(s.initialCss.gzip)} | record |`,
    `| … chunks other pages load later (${s.lazyJs.files.length}), gzip; largest chunks: ${largest} | ${kB(s.lazyJs.gzip)} | record |`,
    `| console board, ${b.apps} apps × ${b.environments} environments, ${b.deployments.toLocaleString('en')} deployments: navigation → all ${b.apps * b.environments} cells rendered and a frame + task later (headless Chromium, fresh context, load average ${b.loadAverage.toFixed(1)}), median / max of ${b.loads} | ${ms(b.medianMs)} / ${ms(b.maxMs)} | < 1 s: median ${mark(b.medianMs < b.goalMs)}, max ${mark(b.maxMs < b.goalMs)} |`,
    `| … ms after navigation (medians): scripts loaded · /api/session answered · /api/status sent · answered · cells rendered | ${ms(p.scriptsLoadedMs)} · ${ms(p.sessionDoneMs)} · ${ms(p.statusStartMs)} · ${ms(p.statusDoneMs)} · ${ms(b.cellsMedianMs)} | record |`,
    `| … \`GET /api/status\` (${b.status.items} environments, ${kB(b.status.bytes)}) from Node, warm, median / max of ${b.status.requests}${b.statusAfter ? ', before the loads · after the live updates' : ''} | ${ms(b.status.medianMs)} / ${ms(b.status.maxMs)}${b.statusAfter ? ` · ${ms(b.statusAfter.medianMs)} / ${ms(b.statusAfter.maxMs)}` : ''} | record |`,
    `| … longest main-thread task / total blocking time (medians); \`/api/board\` after it, median | ${ms(b.longestTaskMs)} / ${ms(b.blockingMs)}; ${b.boardExtrasMs >= 0 ? ms(b.boardExtrasMs) : '–'} | record |`,
    `| console live update: environment lock through the API → "locked by" on the open board, median / p95 / max of ${l.changes} | ${ms(l.lock.medianMs)} / ${ms(l.lock.p95Ms)} / ${ms(l.lock.maxMs)} | < ${l.goalMs} ms: median ${mark(l.lock.medianMs < l.goalMs)}, p95 ${mark(l.lock.p95Ms < l.goalMs)} |`,
    `| … the board's refetch of /api/status starts · ends, ms after the request (medians) | ${ms(l.refetch.startMs)} · ${ms(l.refetch.endMs)} | record |`,
    `| … unlock → badge gone, median / p95 / max | ${ms(l.unlock.medianMs)} / ${ms(l.unlock.p95Ms)} / ${ms(l.unlock.maxMs)} | record |`,
  ];
}
