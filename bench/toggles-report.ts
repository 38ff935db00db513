import type { LoadFigure } from './toggle-load.js';
import type { Endpoint, Target, TogglesVsUnleash } from './toggles-vs-unleash.js';

const GOAL = 3;
/** The Frontend API against unleash-server's own (issue 11). */
const FRONTEND_GOAL = 5;

/** The evaluator's row of the main table. */
export function evaluatorRow(t: TogglesVsUnleash): string {
  const e = t.evaluator;
  return (
    `| toggle evaluator vs \`unleash-client\`'s \`isEnabled\`, evaluations/s on the ${e.cases} client-specification cases (best of ${e.rounds}) ` +
    `| ${n(e.gantry)} vs ${n(e.unleashClient)} (${e.ratio}×; ${e.geomeanRatioByFile}× by file) | ≥ 1× ${mark(e.ratio >= 1)} |`
  );
}

/** The side-by-side table of Gantry and unleash-server. */
export function togglesTable(t: TogglesVsUnleash): string[] {
  const sqlite = endpoints(t, 'gantry-sqlite');
  const postgres = endpoints(t, 'gantry-postgres');
  const unleash = endpoints(t, 'unleash-server');
  const against = t.unleashVersion ? `unleash-server ${t.unleashVersion}` : 'unleash-server';
  const out = [
    '',
    `Toggles: Gantry against ${against} on PostgreSQL, both serving the same ${t.toggles} toggles and ${t.segments} segments; ` +
      `autocannon with ${t.connections} connections for ${t.durationSec} s after a ${t.warmupSec} s warm-up, best of ${t.rounds} rounds ` +
      `(goal: Gantry ≥ ${GOAL}× unleash-server's requests/s; the ratio uses Gantry on SQLite):`,
    '',
    '| Request | Gantry SQLite req/s | p99 | Gantry PostgreSQL req/s | p99 | unleash-server req/s | p99 | Gantry ÷ unleash-server | Goal |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  const row = (
    label: string,
    e: Endpoint,
    versus: Endpoint,
    ratio: number | undefined,
    mark2 = '',
    target: number | null = GOAL,
  ) =>
    `| ${label} | ${cells(sqlite?.[e])} | ${cells(postgres?.[e])} | ${cells(unleash?.[versus], mark2)} | ${ratio === undefined ? '–' : `${ratio}×`} | ${goal(ratio, target)} |`;
  const bytes = (e: Endpoint) => sqlite?.[e]?.bytes;
  out.push(
    row(
      `\`GET /api/client/features\` → 200 (${kb(bytes('features200'))})`,
      'features200',
      'features200',
      t.ratios.features200,
    ),
    row(
      '`GET /api/client/features` → 304 (`If-None-Match`)',
      'features304',
      'features304',
      t.ratios.features304,
    ),
    row(
      `Delta API: \`GET /api/client/delta\` → 200, a hydration (${kb(bytes('delta200'))})`,
      'delta200',
      'delta200',
      t.ratios.delta200,
      unleash?.delta200 ? '' : ' ‡',
      unleash?.delta200 ? GOAL : null,
    ),
    row(
      '`GET /api/client/delta` → 304 (revision in `If-None-Match`)',
      'delta304',
      'delta304',
      t.ratios.delta304,
      unleash?.delta304 ? '' : ' ‡',
      unleash?.delta304 ? GOAL : null,
    ),
    row(
      `Frontend API: \`POST /api/frontend\` with a context (${kb(bytes('frontend'))})`,
      'frontend',
      'frontend',
      t.ratios.frontend,
      '',
      FRONTEND_GOAL,
    ),
    row(
      `OFREP, one flag: \`POST /ofrep/v1/evaluate/flags/${t.ofrepKey}\``,
      'ofrepSingle',
      'frontend',
      t.ratios.ofrepSingleVsFrontend,
      ' †',
    ),
    row(
      `OFREP, all flags: \`POST /ofrep/v1/evaluate/flags\` (${kb(bytes('ofrepBulk'))})`,
      'ofrepBulk',
      'frontend',
      t.ratios.ofrepBulkVsFrontend,
      ' †',
    ),
  );
  out.push(
    '',
    `† unleash-server has no OFREP (\`POST /ofrep/v1/evaluate/flags/…\` answers ${t.unleashOfrep?.split(' ')[0] ?? '–'} even with its admin token); ` +
      `its column is the nearest equivalent, the Frontend API \`POST /api/frontend\`, which evaluates every toggle for the posted context ` +
      `(${kb(unleash?.frontend?.bytes)}).`,
  );
  if (!unleash?.delta200)
    out.push(
      '',
      `‡ unleash-server's open-source build does not serve the delta API (\`GET /api/client/delta\` with its client token and UNLEASH_EXPERIMENTAL_DELTA_API=true answers ${t.unleashDelta?.split(' ')[0] ?? '–'}), so there is no ratio; Gantry's rows measure what an SDK in delta mode costs beside its full \`/api/client/features\` rows above.`,
    );
  const failed = t.targets.flatMap((target) =>
    Object.entries(target.endpoints).flatMap(([e, f]) =>
      f.rounds.some((r) => r.failed > 0)
        ? [
            `${target.server} ${e}: ${f.rounds.map((r) => r.failed).join(' + ')} of ${f.rounds.map((r) => r.requests).join(' + ')}`,
          ]
        : [],
    ),
  );
  if (failed.length) out.push('', `**Answers with an unexpected status or errors:** ${failed.join('; ')}.`);
  for (const s of t.skipped) out.push('', `${s.what} skipped: ${s.reason}`);
  return out;
}

function endpoints(t: TogglesVsUnleash, server: Target['server']) {
  return t.targets.find((x) => x.server === server)?.endpoints;
}

function cells(f: LoadFigure | undefined, suffix = ''): string {
  return f ? `${n(f.requestsPerSec)}${suffix} | ${Math.round(f.p99Ms)} ms` : '– | –';
}

function goal(ratio: number | undefined, target: number | null = GOAL): string {
  if (target === null) return '–';
  return ratio === undefined ? `≥ ${target}×` : `≥ ${target}× ${mark(ratio >= target)}`;
}

function kb(bytes: number | undefined): string {
  return bytes === undefined ? '–' : `${(bytes / 1024).toFixed(1)} KiB`;
}

function n(x: number): string {
  return x.toLocaleString('en');
}

function mark(ok: boolean): string {
  return ok ? '✅' : '❌';
}
