import { Link, useParams } from 'wouter';
import { ErrorNote, formatMs, Loading, RelativeTime, ShortSha, StatusBadge } from '../../components/ui';
import { ConfigDiff } from './config-diff';
import { EnvironmentControls } from './environment-controls';
import { useEnvironments, useHistory } from './environment-queries';
import { triggerWords } from './verification-words';
import './deployments.css';
import { VerificationBadge } from './verification';

const took = (d: { startedAt: string | null; finishedAt: string | null }) =>
  d.startedAt && d.finishedAt ? Date.parse(d.finishedAt) - Date.parse(d.startedAt) : null;

/** One environment: what runs, lock and hold, its deployment history, and how its config differs from another's. */
export function EnvironmentPage() {
  const { app, env } = useParams<{ app: string; env: string }>();
  const envs = useEnvironments(app);
  const history = useHistory(app, env);
  const enc = encodeURIComponent;
  if (envs.isPending) return <Loading what="the environment" />;
  if (envs.error) return <ErrorNote error={envs.error} />;
  const s = envs.data.find((e) => e.env === env);
  if (!s)
    return (
      <div className="alert" role="alert">
        {app} has no environment "{env}" ({envs.data.map((e) => e.env).join(', ') || 'none declared'}).
      </div>
    );
  const others = envs.data.map((e) => e.env).filter((e) => e !== env);
  const downstream = envs.data.find((e) => e.promoteFrom === env)?.env ?? null;
  return (
    <div className="stack area-page">
      <p className="small">
        <Link href="/">Board</Link> › {app}
      </p>
      <h1>
        {app} {env}{' '}
        {s.current ? (
          <StatusBadge status={s.health?.healthy ? 'healthy' : s.health ? 'unhealthy' : 'unknown'} />
        ) : null}
      </h1>
      <dl className="facts panel">
        <dt>Runs</dt>
        <dd>
          {s.current ? (
            <>
              <ShortSha sha={s.current.sha} /> <VerificationBadge verification={s.current.verification} />{' '}
              {s.commit?.message.split('\n')[0]}{' '}
              <span className="muted small">
                {s.commit?.authorName} · <RelativeTime iso={s.current.finishedAt} />
              </span>
            </>
          ) : (
            'nothing yet'
          )}
        </dd>
        {s.hosts?.length ? (
          <>
            <dt>Hosts</dt>
            <dd>
              {s.hosts.join(', ')} (port {s.port}, on their deploy agents)
            </dd>
          </>
        ) : (
          <>
            <dt>URL</dt>
            <dd>
              <code className="wrap">{s.url}</code>
            </dd>
          </>
        )}
        <dt>Driver</dt>
        <dd>{s.driver}</dd>
        <dt>Promotes from</dt>
        <dd>{s.promoteFrom ?? '—'}</dd>
        <dt>Settings</dt>
        <dd>
          {[s.protected ? 'protected' : null, s.autoDeploy ? 'auto-deploy' : null]
            .filter(Boolean)
            .join(', ') || '—'}
        </dd>
      </dl>
      <EnvironmentControls s={s} />
      <section className="panel" aria-labelledby="history-h">
        <h2 id="history-h">Deployments</h2>
        {history.isPending ? <Loading what="the history" /> : null}
        <ErrorNote error={history.error} />
        {history.data?.length === 0 ? <p className="muted">Nothing was deployed to {env} yet.</p> : null}
        {history.data?.length ? (
          <div className="table-wrap">
            <table data-testid="history">
              <thead>
                <tr>
                  <th scope="col">Release</th>
                  <th scope="col">Status</th>
                  <th scope="col">Trigger</th>
                  <th scope="col">By</th>
                  <th scope="col">When</th>
                  <th scope="col">Took</th>
                </tr>
              </thead>
              <tbody>
                {history.data.map((d) => (
                  <tr key={d.id}>
                    <td>
                      <Link
                        href={`/apps/${enc(app)}/deployments/${enc(d.id)}`}
                        aria-label={`deployment ${d.id} of ${d.sha.slice(0, 8)}`}
                      >
                        <ShortSha sha={d.sha} />
                      </Link>
                    </td>
                    <td>
                      <StatusBadge status={d.status} /> <VerificationBadge verification={d.verification} />
                    </td>
                    <td data-trigger={d.trigger}>{triggerWords(d.trigger)}</td>
                    <td className="wrap">{d.actor}</td>
                    <td>
                      <RelativeTime iso={d.requestedAt} />
                    </td>
                    <td>{formatMs(took(d))}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </section>
      <ConfigDiff app={app} env={env} others={others} initial={s.promoteFrom ?? downstream} />
    </div>
  );
}
