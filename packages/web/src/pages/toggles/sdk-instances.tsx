import { TimeFromNow } from '../../components/time-from-now';
import { Badge, ErrorNote, Loading } from '../../components/ui';
import { type ClientInstance, useClientInstances } from './toggle-api';

function Freshness({ c }: { c: ClientInstance }) {
  if (c.behind === null) return <Badge tone="neutral">never fetched</Badge>;
  return c.behind ? (
    <Badge
      tone="warn"
      title={`has revision ${c.fetched?.revision}, the environment is at ${c.currentRevision}`}
    >
      behind
    </Badge>
  ) : (
    <Badge tone="ok">up to date</Badge>
  );
}

/** The SDK instances that registered, fetched or reported metrics for this app. */
export function SdkInstances({ app, env }: { app: string; env?: string }) {
  const q = useClientInstances(app);
  const list = (q.data ?? []).filter((c) => !env || c.env === env);
  return (
    <section className="panel" aria-labelledby="sdk-instances">
      <h2 id="sdk-instances">Connected SDKs</h2>
      {q.isPending ? <Loading what="the SDK instances" /> : null}
      <ErrorNote error={q.error} />
      {q.data && list.length === 0 ? (
        <p className="muted small">
          No SDK has connected yet. Give one a client token (
          <code>gantry tokens create --app {app} --env &lt;env&gt;</code>) and point it at this server’s{' '}
          <code>/api/</code>.
        </p>
      ) : null}
      {list.length ? (
        <div className="table-wrap">
          <table className="instances">
            <thead>
              <tr>
                <th scope="col">Application</th>
                <th scope="col">Environment</th>
                <th scope="col">SDK</th>
                <th scope="col">Last seen</th>
                <th scope="col">Toggles</th>
              </tr>
            </thead>
            <tbody>
              {list.map((c) => (
                <tr key={`${c.env}/${c.appName}/${c.instanceId}`} data-testid={`sdk-${c.appName}`}>
                  <td>
                    {c.appName}
                    <div className="small muted">{c.instanceId}</div>
                  </td>
                  <td>{c.env}</td>
                  <td className="small">{c.sdkVersion ?? 'unknown'}</td>
                  <td className="small">
                    <TimeFromNow iso={c.lastSeenAt} />
                  </td>
                  <td>
                    <Freshness c={c} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}
