import { useQuery } from '@tanstack/react-query';
import { Link } from 'wouter';
import { api, ok } from '../../api/client';
import { useSession } from '../../api/session';
import { ErrorNote, Loading, RelativeTime, StatusBadge } from '../../components/ui';
import { type Incident, OpenIncidentButton, ResolveButton } from './incident-actions';
import './incidents.css';

/** Open incidents first, then the newest. */
export function incidentOrder(a: Incident, b: Incident): number {
  if (!a.resolvedAt !== !b.resolvedAt) return a.resolvedAt ? 1 : -1;
  return b.openedAt.localeCompare(a.openedAt);
}

export function NoIncidentAccess() {
  return (
    <p className="notice">
      Incidents are not readable with this sign-in: its token reads delivery metrics only. Sign in with an
      admin token to see, open and resolve incidents.
    </p>
  );
}

export function IncidentsPage() {
  const session = useSession();
  const readable = session.can('apps:read');
  const canWrite = session.can('incidents:write');
  const list = useQuery({
    queryKey: ['incidents', 'list'],
    queryFn: () => ok(api.GET('/api/incidents', { params: { query: { limit: 500 } } })),
    enabled: readable,
  });
  const incidents = [...(list.data ?? [])].sort(incidentOrder);
  const openCount = incidents.filter((i) => !i.resolvedAt).length;
  return (
    <div className="stack">
      <div className="row incidents-head">
        <h1>Incidents</h1>
        {readable && canWrite ? <OpenIncidentButton /> : null}
      </div>
      {!readable ? <NoIncidentAccess /> : null}
      <ErrorNote error={list.error} />
      {list.isPending && readable ? <Loading what="incidents" /> : null}
      {list.isSuccess && !incidents.length ? (
        <p className="muted">No incidents recorded. Open one when production has a problem.</p>
      ) : null}
      {incidents.length ? (
        <div className="table-wrap">
          <table className="incidents-table">
            <caption>
              {openCount} open, {incidents.length - openCount} resolved (open first)
            </caption>
            <thead>
              <tr>
                <th scope="col">Status</th>
                <th scope="col">Title</th>
                <th scope="col">App</th>
                <th scope="col">Environment</th>
                <th scope="col">Opened</th>
                <th scope="col">Deployment</th>
                {canWrite ? <th scope="col">Action</th> : null}
              </tr>
            </thead>
            <tbody>
              {incidents.map((i) => (
                <tr key={i.id} data-testid={`incident-${i.id}`}>
                  <td>
                    <StatusBadge status={i.resolvedAt ? 'resolved' : 'open'} />
                  </td>
                  <td>
                    <Link href={`/incidents/${i.id}`}>{i.title}</Link>
                  </td>
                  <td>{i.app}</td>
                  <td>{i.env}</td>
                  <td>
                    <RelativeTime iso={i.openedAt} /> <span className="small muted">by {i.openedBy}</span>
                  </td>
                  <td>
                    {i.deploymentId ? (
                      <Link href={`/apps/${i.app}/deployments/${i.deploymentId}`} className="mono small">
                        {i.deploymentId}
                      </Link>
                    ) : (
                      <span className="muted">none</span>
                    )}
                  </td>
                  {canWrite ? <td>{i.resolvedAt ? null : <ResolveButton incident={i} />}</td> : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </div>
  );
}
