import type { ResponseOf } from '../../api/types';

export type Commit = ResponseOf<'/api/apps/{app}/commits'>[number];
export type BuildSummary = ResponseOf<'/api/builds'>[number];
export type DeploymentSummary = ResponseOf<'/api/deployments'>[number];
export type EnvironmentState = ResponseOf<'/api/apps/{app}/environments'>[number];

/** One cell of the pipeline matrix: what happened to a commit in one column, and where to read more. */
export interface Cell {
  status: string | null;
  id: string | null;
  /** The environment runs this commit now. */
  current?: boolean;
  /** How many builds or deployments of this commit there were in this column. */
  count: number;
}

export interface PipelineRow {
  commit: Commit;
  build: Cell;
  envs: Record<string, Cell>;
}

/**
 * Environments in promotion order: each after the one it promotes from, the declared order
 * otherwise (so qa → staging → production however gantry.yaml lists them).
 */
export function promotionOrder(envs: readonly Pick<EnvironmentState, 'env' | 'promoteFrom'>[]): string[] {
  const names = envs.map((e) => e.env);
  const out: string[] = [];
  const visit = (name: string, seen: Set<string>) => {
    if (out.includes(name) || seen.has(name)) return;
    seen.add(name);
    const from = envs.find((e) => e.env === name)?.promoteFrom;
    if (from && names.includes(from)) visit(from, seen);
    out.push(name);
  };
  for (const n of names) visit(n, new Set());
  return out;
}

const EMPTY: Cell = { status: null, id: null, count: 0 };

/**
 * The pipeline matrix: for each commit (newest first, as given), its newest build, and per
 * environment the deployment that says the most: the newest that succeeded (the commit reached
 * it), else the newest of any status (running, queued, failed …).
 */
export function pipelineRows(
  commits: readonly Commit[],
  builds: readonly BuildSummary[],
  deployments: readonly DeploymentSummary[],
  envs: readonly Pick<EnvironmentState, 'env' | 'current'>[],
): PipelineRow[] {
  const buildsBySha = new Map<string, BuildSummary[]>();
  for (const b of builds) buildsBySha.set(b.sha, [...(buildsBySha.get(b.sha) ?? []), b]);
  const deploysBy = new Map<string, DeploymentSummary[]>();
  for (const d of deployments) {
    const key = `${d.sha} ${d.env}`;
    deploysBy.set(key, [...(deploysBy.get(key) ?? []), d]);
  }
  const newestFirst = <T extends { id: string }>(xs: T[], at: (x: T) => string) =>
    [...xs].sort((a, b) => at(b).localeCompare(at(a)));
  return commits.map((commit) => {
    const bs = newestFirst(buildsBySha.get(commit.sha) ?? [], (b) => b.queuedAt);
    const newest = bs[0];
    const row: PipelineRow = {
      commit,
      build: newest ? { status: newest.status, id: newest.id, count: bs.length } : EMPTY,
      envs: {},
    };
    for (const e of envs) {
      const ds = newestFirst(deploysBy.get(`${commit.sha} ${e.env}`) ?? [], (d) => d.requestedAt);
      const pick = ds.find((d) => d.status === 'succeeded') ?? ds[0];
      row.envs[e.env] = pick
        ? { status: pick.status, id: pick.id, count: ds.length, current: e.current?.sha === commit.sha }
        : EMPTY;
    }
    return row;
  });
}
