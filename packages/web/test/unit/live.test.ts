import { QueryClient } from '@tanstack/react-query';
import { describe, expect, it } from 'vitest';
import { invalidateFor } from '../../src/api/live';

/** Which cached queries become stale after a burst of events. */
function staleAfter(types: string[]): string[] {
  const qc = new QueryClient();
  const keys = [
    ['status'],
    ['deployment', 'dep_1'],
    ['deployment', 'dep_1', 'checks'],
    ['deployments', 'shop', 'qa'],
    ['reverts', 'shop'],
    ['build', 'bld_1'],
    ['toggles', 'shop'],
    ['releases'],
    ['incidents'],
    ['metrics', 'shop', 'production'],
    ['session'],
  ];
  for (const k of keys) qc.setQueryData(k, 1);
  invalidateFor(qc, types);
  return keys.filter((k) => qc.getQueryState(k)?.isInvalidated).map((k) => k.join('/'));
}

describe('live updates: which queries an event makes stale', () => {
  it('a deployment event refreshes the board, deployments, their checks, reverts and metrics, not builds or toggles', () => {
    const deployment = [
      'status',
      'deployment/dep_1',
      'deployment/dep_1/checks',
      'deployments/shop/qa',
      'reverts/shop',
      'metrics/shop/production',
    ];
    expect(staleAfter(['deployment.succeeded'])).toEqual(deployment);
    // The post-deploy checks' verdicts: the deployment page, the board's badges, the history.
    for (const type of ['deployment.verifying', 'deployment.verified', 'deployment.check_failed'])
      expect(staleAfter([type])).toEqual(deployment);
  });

  it("a check's run refreshes the deployment and its checks; a revert's step refreshes the reverts", () => {
    expect(staleAfter(['check.finished'])).toEqual(['deployment/dep_1', 'deployment/dep_1/checks']);
    for (const type of ['revert.step', 'revert.pushed', 'revert.proposed', 'revert.skipped'])
      expect(staleAfter([type])).toEqual(['reverts/shop']);
  });

  it('a release event refreshes releases, toggles and metrics', () => {
    expect(staleAfter(['release.applied'])).toEqual(['toggles/shop', 'releases', 'metrics/shop/production']);
  });

  it('a burst of mixed events marks the union once, and never the session', () => {
    const stale = staleAfter(['build.step.finished', 'build.succeeded', 'incident.opened', 'token.created']);
    expect(stale).toEqual(['status', 'build/bld_1', 'incidents', 'metrics/shop/production']);
    expect(stale).not.toContain('session');
  });

  it('an unknown event type touches nothing', () => {
    expect(staleAfter(['something.new'])).toEqual([]);
  });
});
