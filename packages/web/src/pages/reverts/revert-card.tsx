import type { ReactNode } from 'react';
import { Link } from 'wouter';
import type { ResponseOf } from '../../api/types';
import { Badge, RelativeTime, ShortSha } from '../../components/ui';
import { revertActive, revertOutcome, revertStatusWords, stepWords } from './revert-words';

export type Revert = ResponseOf<'/api/reverts'>[number];

const enc = encodeURIComponent;

function DeploymentLink({
  app,
  id,
  label,
  children,
}: {
  app: string;
  id: string;
  label?: string;
  children: ReactNode;
}) {
  return (
    <Link href={`/apps/${enc(app)}/deployments/${enc(id)}`} aria-label={label}>
      {children}
    </Link>
  );
}

/** Where the revert went: the commit on the main branch, or the branch proposed. */
function Outcome({ r }: { r: Revert }) {
  const o = revertOutcome(r);
  if (o.kind === 'commit')
    return (
      <>
        <dt>Revert commit</dt>
        <dd data-testid="revert-commit">
          <ShortSha sha={o.sha} /> <span className="muted small">pushed to the main branch</span>
        </dd>
      </>
    );
  if (o.kind === 'branch')
    return (
      <>
        <dt>Proposed branch</dt>
        <dd data-testid="revert-branch">
          <code className="wrap">{o.branch}</code>{' '}
          {o.sha ? (
            <span className="muted small">
              (revert commit <ShortSha sha={o.sha} />)
            </span>
          ) : null}
        </dd>
      </>
    );
  return (
    <>
      <dt>Revert</dt>
      <dd className="muted">{revertActive(r.status) ? 'not made yet' : 'none'}</dd>
    </>
  );
}

/**
 * One of Gantry's reverts: the failed release and check, what was blamed and why, the revert pushed
 * or proposed, and every step it took (the environment guard, each bisect step, the revert) as a
 * timeline. Read-only.
 */
export function RevertCard({ r, linkTitle }: { r: Revert; linkTitle: boolean }) {
  const words = revertStatusWords(r.status);
  const titleId = `revert-${r.id}-h`;
  const title = (
    <>
      {r.app} {r.env}: {r.check ? `check ${r.check}` : 'the checks'} failed on <ShortSha sha={r.sha} />
    </>
  );
  return (
    <article className="panel revert" aria-labelledby={titleId} data-testid={`revert-${r.id}`}>
      <h2 id={titleId}>
        {linkTitle ? <Link href={`/reverts/${enc(r.id)}`}>{title}</Link> : title}{' '}
        <Badge tone={words.tone}>{r.status}</Badge>
      </h2>
      <p className="small" data-testid="revert-status">
        {r.status}: {words.text}
        {revertActive(r.status) ? ' (updates live)' : ''}.
      </p>
      <dl className="revert-facts">
        <dt>App</dt>
        <dd>{r.app}</dd>
        <dt>Environment</dt>
        <dd>
          <Link href={`/apps/${enc(r.app)}/environments/${enc(r.env)}`}>{r.env}</Link>
        </dd>
        <dt>Failed release</dt>
        <dd>
          <DeploymentLink app={r.app} id={r.deploymentId}>
            <ShortSha sha={r.sha} />
          </DeploymentLink>{' '}
          <span className="muted small">its deployment's checks failed</span>
        </dd>
        <dt>Check</dt>
        <dd>{r.check ?? '—'}</dd>
        <dt>Last verified</dt>
        <dd>{r.goodSha ? <ShortSha sha={r.goodSha} /> : <span className="muted">none before it</span>}</dd>
        <dt>Mode</dt>
        <dd>
          {r.mode === 'auto' ? 'auto: push the revert to the main branch' : 'propose: push it to a branch'}
        </dd>
        <dt>Blamed commit</dt>
        <dd data-testid="revert-blamed">
          {r.blamedSha ? (
            <ShortSha sha={r.blamedSha} />
          ) : (
            <span className="muted">{revertActive(r.status) ? 'not yet' : 'none'}</span>
          )}
        </dd>
        <Outcome r={r} />
        {r.why ? (
          <>
            <dt>Why</dt>
            <dd data-testid="revert-why">{r.why}</dd>
          </>
        ) : null}
        {r.incidentId ? (
          <>
            <dt>Incident</dt>
            <dd>
              <Link href={`/incidents/${enc(r.incidentId)}`}>{r.incidentId}</Link>
            </dd>
          </>
        ) : null}
        <dt>Started</dt>
        <dd>
          <RelativeTime iso={r.createdAt} />
          {r.updatedAt !== r.createdAt ? (
            <span className="muted small">
              {' '}
              · last step <RelativeTime iso={r.updatedAt} />
            </span>
          ) : null}
        </dd>
      </dl>
      <h3>Steps</h3>
      {r.steps.length === 0 ? (
        <p className="small muted">No step recorded yet.</p>
      ) : (
        <ol className="revert-steps" aria-label={`Steps of the revert of ${r.sha.slice(0, 8)}`}>
          {r.steps.map((s, i) => (
            <li key={`${s.at}-${i}`} data-step={s.step}>
              <time dateTime={s.at} title={new Date(s.at).toLocaleString()}>
                {new Date(s.at).toLocaleTimeString()}
              </time>
              <div>
                <strong>{stepWords(s.step)}</strong>
                {s.sha ? (
                  <>
                    {' '}
                    <ShortSha sha={s.sha} />
                  </>
                ) : null}
                {s.deploymentId ? (
                  <>
                    {' '}
                    <DeploymentLink
                      app={r.app}
                      id={s.deploymentId}
                      label={`its deployment (${s.deploymentId})`}
                    >
                      <span className="small">its deployment</span>
                    </DeploymentLink>
                  </>
                ) : null}
                <div className="small">{s.result}</div>
              </div>
            </li>
          ))}
        </ol>
      )}
    </article>
  );
}
