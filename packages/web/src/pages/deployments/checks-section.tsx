import { useQuery } from '@tanstack/react-query';
import { Link } from 'wouter';
import { api, ok } from '../../api/client';
import type { ResponseOf } from '../../api/types';
import { Badge, ErrorNote, formatMs, Loading, ShortSha } from '../../components/ui';
import { revertStatusWords } from '../reverts/revert-words';
import { CheckOutput } from './check-output';
import {
  attemptText,
  autoRollbackOf,
  type CheckState,
  checkFailureOf,
  checkRows,
  failureSentence,
  runningNow,
} from './check-words';
import { useHistory } from './environment-queries';
import { VerificationBadge } from './verification';
import type { Tone } from './verification-words';

type Checks = ResponseOf<'/api/deployments/{id}/checks'>;
type Deployment = Checks['deployment'];
type CheckRun = Checks['runs'][number];
type LogEvent = ResponseOf<'/api/events'>[number];
export type Revert = ResponseOf<'/api/reverts'>[number];

const STATE_TONE: Record<CheckState, Tone> = {
  passed: 'ok',
  failed: 'bad',
  running: 'info',
  cancelled: 'neutral',
  waiting: 'neutral',
  'not run': 'neutral',
};

export function useChecks(id: string) {
  return useQuery({
    queryKey: ['deployment', id, 'checks'],
    queryFn: () => ok(api.GET('/api/deployments/{id}/checks', { params: { path: { id } } })),
    // The event stream refreshes it on every run; this only keeps the running clock moving.
    refetchInterval: (q) => (q.state.data?.deployment.verification === 'verifying' ? 2000 : false),
  });
}

/** Gantry's reverts of an app, newest first (the deployment page links the one about it). */
export function useAppReverts(app: string, enabled: boolean) {
  return useQuery({
    queryKey: ['reverts', app],
    queryFn: () => ok(api.GET('/api/reverts', { params: { query: { app, limit: 100 } } })),
    enabled,
  });
}

function took(run: CheckRun, now = Date.now()): string {
  if (run.ms !== null) return formatMs(run.ms);
  if (run.status === 'running') return `${formatMs(Math.max(0, now - Date.parse(run.startedAt)))} so far`;
  return '—';
}

/** What this deployment has to do with one of Gantry's reverts: the failure it answers, or a step of it. */
function RevertLink({ d, reverts }: { d: Deployment; reverts: Revert[] }) {
  const own = reverts.find((r) => r.deploymentId === d.id);
  if (own)
    return (
      <p data-testid="revert-link">
        Gantry's revert of this failure: <Badge tone={revertStatusWords(own.status).tone}>{own.status}</Badge>{' '}
        <Link href={`/reverts/${encodeURIComponent(own.id)}`}>see the revert and its steps</Link>
      </p>
    );
  const part = reverts.find((r) => r.steps.some((s) => s.deploymentId === d.id));
  if (!part) return null;
  return (
    <p data-testid="revert-link">
      Deployed by Gantry while finding what broke the checks of <ShortSha sha={part.sha} />:{' '}
      <Link href={`/reverts/${encodeURIComponent(part.id)}`}>see the revert and its steps</Link>
    </p>
  );
}

/**
 * A deployment's post-deploy checks: the verification, each declared check with every run
 * (retries included), a run's error and its output on demand, and what Gantry did when one failed.
 */
export function ChecksSection({ id, events }: { id: string; events: LogEvent[] | undefined }) {
  const checks = useChecks(id);
  const d = checks.data?.deployment;
  const failed = d?.verification === 'check_failed';
  const related = failed || d?.trigger === 'auto-rollback' || d?.trigger === 'bisect';
  const failure = failed
    ? [...(events ?? [])].reverse().find((e) => e.type === 'deployment.check_failed')
    : undefined;
  const f = failure ? checkFailureOf(failure.data) : null;
  const history = useHistory(d?.app ?? '', d?.env ?? '', f?.action === 'rollback');
  const reverts = useAppReverts(d?.app ?? '', Boolean(d) && related);
  if (checks.isPending)
    return (
      <section className="panel" aria-labelledby="checks-h">
        <h2 id="checks-h">Checks</h2>
        <Loading what="the checks" />
      </section>
    );
  if (checks.error || !d)
    return (
      <section className="panel" aria-labelledby="checks-h">
        <h2 id="checks-h">Checks</h2>
        <ErrorNote error={checks.error} />
      </section>
    );
  const rows = checkRows(checks.data.declared, checks.data.runs, d.verification);
  const now = runningNow(rows);
  const firstFailed = rows.find((r) => r.state === 'failed');
  const failureText = failed
    ? failureSentence(
        f ?? { check: firstFailed?.name ?? 'a check', action: null },
        d,
        history.data ? autoRollbackOf(d, history.data) : null,
      )
    : null;
  return (
    <section className="panel" aria-labelledby="checks-h" data-testid="checks">
      <h2 id="checks-h">
        Checks <VerificationBadge verification={d.verification} />
      </h2>
      {d.verification === 'verifying' ? (
        <p role="status" data-testid="checks-now">
          {now
            ? `Running ${now.row.name} (${attemptText(now.run.attempt, now.row.retries)}), ${took(now.run)}.`
            : 'Starting the next check…'}
        </p>
      ) : null}
      {d.verification === null ? (
        <p className="muted">
          {d.status !== 'succeeded'
            ? 'Checks run once a deployment succeeds.'
            : rows.length === 0
              ? `${d.env} declares no post-deploy check at this commit.`
              : 'The checks were not run for this deployment.'}
        </p>
      ) : null}
      {d.verification === 'superseded' ? (
        <p className="muted">A newer deployment replaced this release before its checks finished.</p>
      ) : null}
      {failureText ? (
        <p className="alert" data-testid="check-failure">
          {failureText}
        </p>
      ) : null}
      {reverts.data ? <RevertLink d={d} reverts={reverts.data} /> : null}
      {rows.length ? (
        <ul className="checks">
          {rows.map((row) => (
            <li key={row.name} className="check" data-check={row.name}>
              <h3>
                {row.name}{' '}
                <span className="muted small">
                  ({row.kind}
                  {row.retries !== null
                    ? `, ${row.retries} ${row.retries === 1 ? 'retry' : 'retries'}`
                    : ', no longer declared'}
                  )
                </span>{' '}
                <Badge tone={STATE_TONE[row.state]}>{row.state}</Badge>
              </h3>
              {row.runs.length === 0 ? (
                <p className="small muted">
                  {row.state === 'waiting' ? 'Waits for the checks before it.' : 'Did not run.'}
                </p>
              ) : (
                <ol className="check-runs" aria-label={`Runs of ${row.name}`}>
                  {row.runs.map((run) => (
                    <li key={run.id} data-attempt={run.attempt}>
                      <div className="run-head">
                        <span>{attemptText(run.attempt, row.retries)}</span>
                        <Badge tone={STATE_TONE[run.status]}>{run.status}</Badge>
                        <span className="small muted">{took(run)}</span>
                      </div>
                      {run.error ? <p className="run-error">{run.error}</p> : null}
                      <CheckOutput
                        output={run.output}
                        label={`Output of ${row.name}, ${attemptText(run.attempt, row.retries)}`}
                      />
                    </li>
                  ))}
                </ol>
              )}
            </li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}
