import { useQuery } from '@tanstack/react-query';
import { Link, useParams } from 'wouter';
import { api, ok } from '../../api/client';
import {
  Badge,
  ErrorNote,
  formatMs,
  Loading,
  RelativeTime,
  ShortSha,
  StatusBadge,
} from '../../components/ui';
import { ApprovalSection } from '../approvals/approvals-page';
import { ChecksSection } from './checks-section';
import { isRollback, triggerWords } from './verification-words';
import './deployments.css';
import { phaseRows, phaseWords, sloText, sloVerdict } from './phase-words';
import { VerificationBadge } from './verification';

const RUNNING = ['queued', 'running'];

function useTimeline(id: string) {
  return useQuery({
    queryKey: ['deployment', id, 'timeline'],
    queryFn: () => ok(api.GET('/api/deployments/{id}/timeline', { params: { path: { id } } })),
    // The event stream refreshes it on every phase; this only keeps the running clock moving.
    refetchInterval: (q) => (RUNNING.includes(q.state.data?.deployment.status ?? '') ? 2000 : false),
  });
}

function useDeploymentEvents(id: string) {
  return useQuery({
    queryKey: ['deployment', id, 'events'],
    queryFn: () => ok(api.GET('/api/events', { params: { query: { subject: id, limit: 500 } } })),
  });
}

/** An event's data in one line: the values a person reads (env, SHA, phase, reason, error). */
function eventText(data: Record<string, unknown>): string {
  return Object.entries(data)
    .filter(([k, v]) => v !== null && v !== undefined && v !== '' && k !== 'env')
    .map(
      ([k, v]) =>
        `${k}: ${typeof v === 'string' ? (/^[0-9a-f]{40}$/.test(v) ? v.slice(0, 8) : v) : JSON.stringify(v)}`,
    )
    .join(' · ');
}

/** One deployment: its phases with timings (against the rollback SLO for a rollback), who and why, its events. */
export function DeploymentPage() {
  const { app, id } = useParams<{ app: string; id: string }>();
  const timeline = useTimeline(id);
  const events = useDeploymentEvents(id);
  if (timeline.isPending) return <Loading what="the deployment" />;
  if (timeline.error) return <ErrorNote error={timeline.error} />;
  const { deployment: d, commit, previousCommit, totalMs, rollbackSloMs } = timeline.data;
  const rows = phaseRows(d.phases, d);
  const longest = Math.max(1, ...rows.map((r) => r.ms ?? 0));
  const verdict = sloVerdict(totalMs, rollbackSloMs);
  const enc = encodeURIComponent;
  return (
    <div className="stack area-page">
      <p className="small">
        <Link href="/">Board</Link> ›{' '}
        <Link href={`/apps/${enc(app)}/environments/${enc(d.env)}`}>
          {d.app} {d.env}
        </Link>
      </p>
      <h1>
        {isRollback(d.trigger) ? 'Rollback' : 'Deployment'} of <ShortSha sha={d.sha} /> to {d.env}{' '}
        <StatusBadge status={d.status} /> <VerificationBadge verification={d.verification} />
      </h1>
      <dl className="facts panel" data-testid="deployment-facts">
        <dt>Commit</dt>
        <dd>
          <ShortSha sha={d.sha} /> {commit?.subject ?? ''}{' '}
          {commit ? <span className="muted small">by {commit.authorName}</span> : null}
        </dd>
        <dt>Replaced</dt>
        <dd>
          {d.previousSha ? (
            <>
              <ShortSha sha={d.previousSha} /> {previousCommit?.subject ?? ''}
            </>
          ) : (
            'nothing (first deployment)'
          )}
        </dd>
        <dt>Trigger</dt>
        <dd data-testid="trigger">
          {triggerWords(d.trigger)}
          {triggerWords(d.trigger) !== d.trigger ? <span className="muted small"> ({d.trigger})</span> : null}
          {d.forced ? ' (forced past promote_from)' : ''}
        </dd>
        <dt>Actor</dt>
        <dd>{d.actor}</dd>
        {d.reason ? (
          <>
            <dt>Reason</dt>
            <dd>{d.reason}</dd>
          </>
        ) : null}
        {d.tag ? (
          <>
            <dt>Tag</dt>
            <dd>
              <code className="wrap">{d.tag}</code>
            </dd>
          </>
        ) : null}
        <dt>Artifact</dt>
        <dd>{d.digest ? <code className="wrap">{d.digest}</code> : '—'}</dd>
        <dt>Requested</dt>
        <dd>
          <RelativeTime iso={d.requestedAt} />
          {d.position ? ` · position ${d.position} in the queue` : ''}
        </dd>
        <dt>Total</dt>
        <dd data-testid="total">
          {totalMs !== null ? formatMs(totalMs) : RUNNING.includes(d.status) ? 'still going' : '—'}
          {d.kind
            ? ` · ${d.kind === 'switch' ? 'switched to a warm standby' : d.kind === 'start' ? 'started the release' : 'nothing to do'}`
            : ''}
          {rollbackSloMs !== null ? (
            <>
              {' '}
              {verdict ? (
                <Badge tone={verdict === 'within' ? 'ok' : 'bad'}>
                  {verdict} the {sloText(rollbackSloMs)} rollback SLO
                </Badge>
              ) : (
                <span className="muted">(rollback SLO {sloText(rollbackSloMs)})</span>
              )}
            </>
          ) : null}
        </dd>
      </dl>
      {d.status === 'awaiting_approval' || d.approval ? (
        <ApprovalSection id={id} expiresAt={d.approval?.expiresAt ?? null} />
      ) : null}
      {d.error ? (
        <div className="alert" role="alert">
          <pre className="wrap-pre">{d.error}</pre>
        </div>
      ) : null}
      <section className="panel" aria-labelledby="phases-h">
        <h2 id="phases-h">Phases</h2>
        {rows.length === 0 ? (
          <p className="muted">
            {d.status === 'queued'
              ? 'Queued: no phase has started yet.'
              : d.status === 'awaiting_approval'
                ? 'Waiting for approval: no phase has started yet.'
                : RUNNING.includes(d.status)
                  ? 'Starting…'
                  : 'No phase ran.'}
          </p>
        ) : (
          <ol className="phases" data-testid="phases">
            {rows.map((r) => (
              <li key={`${r.name}-${r.startedAt}`} className="phase" data-phase={r.name}>
                <span className="phase-name">
                  {phaseWords(r.name)} <span className="muted small">({r.name})</span>
                </span>
                <span className="phase-bar" aria-hidden="true">
                  <span style={{ width: `${Math.max(2, ((r.ms ?? 0) / longest) * 100)}%` }} />
                </span>
                <span className="phase-ms">{r.running ? `${formatMs(r.ms)} so far` : formatMs(r.ms)}</span>
              </li>
            ))}
          </ol>
        )}
      </section>
      <ChecksSection id={id} events={events.data} />
      <section className="panel" aria-labelledby="events-h">
        <h2 id="events-h">Log</h2>
        <p className="small muted">What Gantry recorded about this deployment, oldest first.</p>
        <ErrorNote error={events.error} />
        {events.data?.length === 0 ? <p className="muted">No event yet.</p> : null}
        {events.data?.length ? (
          // A long log scrolls in its box (the checks add to it): a keyboard must reach it to scroll.
          // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region is reached by keyboard
          <ol className="log deployment-log" aria-label="Deployment log" tabIndex={0}>
            {events.data.map((e) => (
              <li key={e.id}>
                {new Date(e.createdAt).toLocaleTimeString()} {e.type} ({e.actor}) {eventText(e.data)}
              </li>
            ))}
          </ol>
        ) : null}
      </section>
    </div>
  );
}
