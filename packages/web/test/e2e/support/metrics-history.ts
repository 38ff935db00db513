import type { MetricsInput } from '../../../../server/src/features/metrics/engine/index.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * A deterministic delivery history of one app's production and staging over the `days` before
 * `now`: deployments on most days, commits with lead times of hours to days, some rollbacks, linked
 * incidents (most resolved), and builds. For seedHistory (packages/server/test/support/metrics-seed.ts).
 */
export function recentHistory(app: string, seed: number, days = 100, now = Date.now()): MetricsInput {
  let state = seed * 7919 + 17;
  const r = () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
  const iso = (t: number) => new Date(t).toISOString();
  const hex = (seed % 16).toString(16);
  const out: Required<Pick<MetricsInput, 'commits' | 'deployments' | 'incidents' | 'builds'>> = {
    commits: [],
    deployments: [],
    incidents: [],
    builds: [],
  };
  const start = Math.floor((now - days * DAY) / DAY) * DAY;
  const shipped: string[] = [];
  let n = 0;
  for (let day = 0; day < days; day++) {
    const perDay = r() < 0.25 ? 0 : 1 + Math.floor(r() * 3);
    for (let k = 0; k < perDay; k++) {
      const finished = start + day * DAY + (9 + k * 3) * HOUR + Math.floor(r() * HOUR);
      if (finished > now - 2 * HOUR) continue;
      const env = r() < 0.8 ? 'production' : 'staging';
      const id = `${app}-d${n}`;
      const rollback = shipped.length > 2 && r() < 0.12;
      let sha: string;
      if (rollback) {
        sha = shipped[shipped.length - 2]!;
      } else {
        const count = 1 + Math.floor(r() * 3);
        sha = '';
        for (let c = 0; c < count; c++) {
          n++;
          sha = `${hex}${n.toString(16).padStart(39, '0')}`;
          const committed = finished - Math.floor((0.5 + r() * 60) * HOUR);
          out.commits.push({
            sha,
            parents: out.commits.length ? [out.commits[out.commits.length - 1]!.sha] : [],
            committedAt: iso(committed),
            message: `change ${n}`,
          });
          const built = committed + 10 * 60_000;
          out.builds.push({
            id: `${app}-b${n}`,
            app,
            sha,
            status: 'succeeded',
            queuedAt: iso(built - 30_000),
            startedAt: iso(built),
            finishedAt: iso(built + Math.floor((2 + r() * 10) * 60_000)),
            sloMs: 600_000,
          });
        }
        shipped.push(sha);
      }
      const took = rollback ? Math.floor((15 + r() * 80) * 1000) : 90_000;
      out.deployments.push({
        id,
        app,
        env,
        sha,
        status: 'succeeded',
        trigger: rollback ? 'rollback' : 'auto',
        requestedAt: iso(finished - took),
        startedAt: iso(finished - took + 1000),
        finishedAt: iso(finished),
      });
      n++;
      if (env === 'production' && r() < 0.1) {
        const opened = finished + Math.floor(r() * 2 * HOUR);
        const resolved = opened + Math.floor((0.2 + r() * 6) * HOUR);
        out.incidents.push({
          id: `${app}-i${n}`,
          app,
          env,
          deploymentId: id,
          openedAt: iso(opened),
          resolvedAt: resolved < now - HOUR ? iso(resolved) : null,
        });
      }
    }
  }
  return out;
}
