import { useQuery } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { Link, useParams } from 'wouter';
import { api, ok } from '../../api/client';
import { useSession } from '../../api/session';
import type { ResponseOf } from '../../api/types';
import { ErrorNote, Loading, ShortSha, StatusBadge } from '../../components/ui';
import { duration } from '../metrics/metrics-format';
import { type Incident, ResolveButton } from './incident-actions';
import { NoIncidentAccess } from './incidents-page';
import './incidents.css';

type Deployment = ResponseOf<'/api/deployments/{id}'>;

export interface TimelineEntry {
  at: string;
  key: string;
  title: ReactNode;
  detail?: ReactNode;
}

const utc = (iso: string) => `${iso.slice(0, 19).replace('T', ' ')} UTC`;

function DeploymentLink({ d }: { d: Deployment }) {
  return (
    <Link href={`/apps/${d.app}/deployments/${d.id}`}>
      deployment of <ShortSha sha={d.sha} />
    </Link>
  );
}

/** What happened, in order: opened, the deployment it is linked to, deployments while open, resolved. */
export function timeline(
  incident: Incident,
  linked: Deployment | undefined,
  during: Deployment[],
): TimelineEntry[] {
  const out: TimelineEntry[] = [
    { at: incident.openedAt, key: 'opened', title: 'Opened', detail: `by ${incident.openedBy}` },
  ];
  if (linked)
    out.push({
      at: linked.finishedAt ?? linked.requestedAt,
      key: `linked-${linked.id}`,
      title: (
        <>
          Linked: <DeploymentLink d={linked} /> to {linked.env}
        </>
      ),
      detail: (
        <>
          <StatusBadge status={linked.status} /> {linked.trigger} by {linked.actor}; blamed for this incident
        </>
      ),
    });
  for (const d of during)
    if (d.id !== linked?.id)
      out.push({
        at: d.requestedAt,
        key: `dep-${d.id}`,
        title: (
          <>
            <DeploymentLink d={d} /> to {d.env}
          </>
        ),
        detail: (
          <>
            <StatusBadge status={d.status} /> {d.trigger} by {d.actor}
            {d.remediates ? ` (remediates ${d.remediates})` : ''}
          </>
        ),
      });
  if (incident.resolvedAt)
    out.push({
      at: incident.resolvedAt,
      key: 'resolved',
      title: 'Resolved',
      detail: `by ${incident.resolvedBy ?? 'unknown'}, ${duration(Date.parse(incident.resolvedAt) - Date.parse(incident.openedAt))} after it opened`,
    });
  return out.sort(
    (a, b) => a.at.localeCompare(b.at) || (a.key === 'opened' ? -1 : b.key === 'opened' ? 1 : 0),
  );
}

function IncidentView({ id }: { id: string }) {
  const session = useSession();
  const incident = useQuery({
    queryKey: ['incidents', id],
    queryFn: () => ok(api.GET('/api/incidents/{id}', { params: { path: { id } } })),
  });
  const i = incident.data;
  const linked = useQuery({
    queryKey: ['deployment', i?.deploymentId],
    queryFn: () => ok(api.GET('/api/deployments/{id}', { params: { path: { id: i?.deploymentId ?? '' } } })),
    enabled: !!i?.deploymentId,
  });
  const deployments = useQuery({
    queryKey: ['deployments', i?.app, i?.env, 'incident', id],
    queryFn: () =>
      ok(api.GET('/api/deployments', { params: { query: { app: i?.app, env: i?.env, limit: 200 } } })),
    enabled: !!i,
  });
  if (incident.isPending) return <Loading what="the incident" />;
  if (!i) return <ErrorNote error={incident.error} />;
  const end = i.resolvedAt ?? new Date(Date.now() + 60_000).toISOString();
  const during = (deployments.data ?? []).filter((d) => d.requestedAt >= i.openedAt && d.requestedAt <= end);
  const entries = timeline(i, linked.data, during);
  return (
    <div className="stack">
      <p className="small">
        <Link href="/incidents">All incidents</Link>
      </p>
      <div className="row incidents-head">
        <h1>{i.title}</h1>
        <StatusBadge status={i.resolvedAt ? 'resolved' : 'open'} />
        {!i.resolvedAt && session.can('incidents:write') ? <ResolveButton incident={i} /> : null}
      </div>
      <dl className="incident-facts">
        <div>
          <dt>App</dt>
          <dd>{i.app}</dd>
        </div>
        <div>
          <dt>Environment</dt>
          <dd>{i.env}</dd>
        </div>
        <div>
          <dt>Opened</dt>
          <dd>
            {utc(i.openedAt)} by {i.openedBy}
          </dd>
        </div>
        <div>
          <dt>Deployment</dt>
          <dd>
            {i.deploymentId ? (
              <Link href={`/apps/${i.app}/deployments/${i.deploymentId}`} className="mono">
                {i.deploymentId}
              </Link>
            ) : (
              'not linked'
            )}
          </dd>
        </div>
      </dl>
      <ErrorNote error={linked.error ?? deployments.error} />
      <section className="panel" aria-labelledby="incident-timeline">
        <h2 id="incident-timeline">Timeline</h2>
        <ol className="timeline" data-testid="incident-timeline">
          {entries.map((e) => (
            <li key={e.key}>
              <time dateTime={e.at}>{utc(e.at)}</time>
              <div>
                <strong>{e.title}</strong>
                {e.detail ? <div className="small muted">{e.detail}</div> : null}
              </div>
            </li>
          ))}
          {!i.resolvedAt ? (
            <li>
              <span className="muted">now</span>
              <div className="muted">Still open{deployments.isPending ? ' (loading deployments…)' : ''}</div>
            </li>
          ) : null}
        </ol>
      </section>
    </div>
  );
}

export function IncidentPage() {
  const { id } = useParams<{ id: string }>();
  const session = useSession();
  if (!session.can('apps:read'))
    return (
      <div className="stack">
        <h1>Incident</h1>
        <NoIncidentAccess />
      </div>
    );
  return <IncidentView id={id} />;
}
