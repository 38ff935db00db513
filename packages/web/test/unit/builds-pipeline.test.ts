import { describe, expect, it } from 'vitest';
import {
  type BuildSummary,
  type Commit,
  type DeploymentSummary,
  pipelineRows,
  promotionOrder,
} from '../../src/pages/builds/pipeline';

const commit = (sha: string): Commit =>
  ({
    sha,
    message: `${sha} subject\n\nbody`,
    authorName: 'Ann',
    committedAt: '2026-01-01T00:00:00Z',
  }) as Commit;
const build = (id: string, sha: string, status: string, queuedAt: string): BuildSummary =>
  ({ id, sha, status, queuedAt }) as BuildSummary;
const deployment = (
  id: string,
  sha: string,
  env: string,
  status: string,
  requestedAt: string,
): DeploymentSummary => ({ id, sha, env, status, requestedAt }) as DeploymentSummary;

describe('the pipeline matrix', () => {
  it('orders environments along their promotion path, whatever order they are declared in', () => {
    expect(
      promotionOrder([
        { env: 'production', promoteFrom: 'staging' },
        { env: 'qa', promoteFrom: null },
        { env: 'staging', promoteFrom: 'qa' },
        { env: 'preview', promoteFrom: null },
      ]),
    ).toEqual(['qa', 'staging', 'production', 'preview']);
    // A loop in the configuration does not hang or drop an environment.
    expect(
      promotionOrder([
        { env: 'a', promoteFrom: 'b' },
        { env: 'b', promoteFrom: 'a' },
      ]).sort(),
    ).toEqual(['a', 'b']);
  });

  it('shows per commit its newest build, and per environment the deployment that reached it, else the newest', () => {
    const rows = pipelineRows(
      [commit('c2'), commit('c1')],
      [
        build('b3', 'c2', 'running', '2026-01-01T00:03:00Z'),
        build('b1', 'c1', 'failed', '2026-01-01T00:01:00Z'),
        build('b2', 'c1', 'succeeded', '2026-01-01T00:02:00Z'),
      ],
      [
        deployment('d1', 'c1', 'qa', 'succeeded', '2026-01-01T00:04:00Z'),
        deployment('d2', 'c1', 'qa', 'failed', '2026-01-01T00:05:00Z'),
        deployment('d3', 'c1', 'staging', 'failed', '2026-01-01T00:06:00Z'),
        deployment('d4', 'c1', 'staging', 'running', '2026-01-01T00:07:00Z'),
      ],
      [
        { env: 'qa', current: { sha: 'c1' } as DeploymentSummary },
        { env: 'staging', current: null },
        { env: 'production', current: null },
      ],
    );
    expect(rows.map((r) => r.commit.sha)).toEqual(['c2', 'c1']);
    expect(rows[0]?.build).toEqual({ status: 'running', id: 'b3', count: 1 });
    expect(rows[0]?.envs.qa).toEqual({ status: null, id: null, count: 0 });
    expect(rows[1]?.build).toEqual({ status: 'succeeded', id: 'b2', count: 2 });
    expect(rows[1]?.envs.qa).toEqual({ status: 'succeeded', id: 'd1', count: 2, current: true });
    expect(rows[1]?.envs.staging).toEqual({ status: 'running', id: 'd4', count: 2, current: false });
    expect(rows[1]?.envs.production?.status).toBeNull();
  });
});
