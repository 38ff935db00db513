import type {
  CommitEvent,
  DeploymentEvent,
  IncidentEvent,
  MetricsInput,
} from '../../src/features/metrics/engine/index.js';

export const HOUR = 60 * 60 * 1000;
export const DAY = 24 * HOUR;
/** 2024-01-01 is a Monday. */
export const T0 = Date.UTC(2024, 0, 1);

export const at = (day: number, hours = 0, minutes = 0, seconds = 0): string =>
  new Date(T0 + day * DAY + hours * HOUR + minutes * 60_000 + seconds * 1000).toISOString();

export const sha = (n: number): string => `${n}`.padStart(40, '0');

/** A linear history: commit n's parent is commit n - 1. */
export const commit = (n: number, committedAt: string, message = `change ${n}`): CommitEvent => ({
  sha: sha(n),
  parents: n > 1 ? [sha(n - 1)] : [],
  committedAt,
  message,
});

export const deploy = (
  id: string,
  n: number,
  finishedAt: string,
  extra: Partial<DeploymentEvent> = {},
): DeploymentEvent => ({
  id,
  app: 'web',
  env: 'production',
  sha: sha(n),
  status: 'succeeded',
  trigger: 'auto',
  requestedAt: finishedAt,
  startedAt: finishedAt,
  finishedAt,
  ...extra,
});

export const incident = (
  id: string,
  openedAt: string,
  extra: Partial<IncidentEvent> = {},
): IncidentEvent => ({
  id,
  app: 'web',
  env: 'production',
  openedAt,
  ...extra,
});

export const input = (parts: Partial<MetricsInput>): MetricsInput => ({
  commits: [],
  deployments: [],
  incidents: [],
  builds: [],
  ...parts,
});

export const week = { app: 'web', from: at(0), to: at(7) };

/** mulberry32: small, seeded, good enough to vary test histories. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const isoOf = (t: number) => new Date(t).toISOString();

export function randomHistory(seed: number): MetricsInput {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const commits: MetricsInput['commits'] = [];
  const deployments: MetricsInput['deployments'] = [];
  const incidents: MetricsInput['incidents'] = [];
  let t = T0 + Math.floor(r() * DAY);
  for (let i = 0; i < 60; i++) {
    t += Math.floor(r() * 6 * HOUR);
    const parents = commits.length ? [commits[commits.length - 1]!.sha] : [];
    if (commits.length > 3 && r() < 0.2) parents.push(pick(commits).sha);
    const s = (i + 1).toString(16).padStart(40, 'a');
    const message = commits.length && r() < 0.1 ? `This reverts commit ${pick(commits).sha}.` : `c${i}`;
    commits.push({ sha: s, parents, committedAt: isoOf(t), message });
    if (r() < 0.4) {
      const back = r() < 0.2 && deployments.length ? pick(deployments).sha : s;
      const finished = t + Math.floor(r() * HOUR);
      deployments.push({
        id: `d${i}`,
        app: 'web',
        env: pick(['production', 'production', 'staging']),
        sha: back,
        status: r() < 0.1 ? 'failed' : 'succeeded',
        trigger: back === s ? 'auto' : 'rollback',
        requestedAt: isoOf(finished - 30_000),
        startedAt: isoOf(finished - 20_000),
        finishedAt: isoOf(finished),
        // Now and then an explicit link to an earlier deployment (no random draw: the rest stays put).
        ...(i % 17 === 0 &&
          deployments.length > 2 && { remediates: deployments[deployments.length - 2]!.id }),
      });
      if (r() < 0.3) {
        const opened = finished + Math.floor(r() * 30 * HOUR);
        incidents.push({
          id: `i${i}`,
          app: 'web',
          env: 'production',
          openedAt: isoOf(opened),
          resolvedAt: r() < 0.8 ? isoOf(opened + Math.floor(r() * 5 * HOUR)) : null,
        });
      }
    }
  }
  return { commits, deployments, incidents, builds: [] };
}
