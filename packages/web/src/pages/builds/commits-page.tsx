import type { ReactNode } from 'react';
import { Link, useLocation, useParams } from 'wouter';
import { Badge, ErrorNote, Loading, RelativeTime, ShortSha, StatusBadge } from '../../components/ui';
import { type Cell, pipelineRows, promotionOrder } from './pipeline';
import { useAppBuilds, useAppDeployments, useApps, useCommits, useEnvironments } from './queries';
import './builds.css';

const enc = encodeURIComponent;

function AppPicker({ current }: { current: string | null }) {
  const apps = useApps();
  const [, navigate] = useLocation();
  if (!apps.data || apps.data.length < 2) return null;
  return (
    <div className="field commits-picker">
      <label htmlFor="commits-app">App</label>
      <select
        id="commits-app"
        value={current ?? ''}
        onChange={(e) => navigate(e.target.value ? `/apps/${enc(e.target.value)}/commits` : '/commits')}
      >
        <option value="">All apps</option>
        {apps.data.map((a) => (
          <option key={a.id} value={a.name}>
            {a.name}
          </option>
        ))}
      </select>
    </div>
  );
}

function MatrixCell({ cell, href, what }: { cell: Cell; href: string; what: string }) {
  if (!cell.id || !cell.status) {
    return (
      <span className="muted" title={`no ${what}`}>
        —
      </span>
    );
  }
  return (
    <span className="pipeline-cell">
      <Link href={href} aria-label={`${what}: ${cell.status}${cell.current ? ', running there now' : ''}`}>
        <StatusBadge status={cell.status} />
      </Link>
      {cell.current ? <Badge tone="info">now</Badge> : null}
      {cell.count > 1 ? (
        <span className="muted small" title={`${cell.count} in all; the one shown says the most`}>
          ×{cell.count}
        </span>
      ) : null}
    </span>
  );
}

/**
 * Rows: the commits of main, newest first; columns: the build, then each environment in promotion
 * order. Every query here is refreshed by the live stream, so a push, a build or a deployment shows
 * up without a reload.
 */
export function PipelineMatrix({
  app,
  limit,
  heading,
  toolbar,
}: {
  app: string;
  limit: number;
  heading: 2 | 1;
  toolbar?: ReactNode;
}) {
  const commits = useCommits(app, limit);
  const builds = useAppBuilds(app);
  const deployments = useAppDeployments(app);
  const environments = useEnvironments(app);
  const error = commits.error ?? builds.error ?? deployments.error ?? environments.error;
  const title = heading === 1 ? `Commits of ${app}` : app;
  const Heading = heading === 1 ? 'h1' : 'h2';
  const head = (
    <Heading id={`pipeline-${app}`}>
      {heading === 1 ? title : <Link href={`/apps/${enc(app)}/commits`}>{app}</Link>}
    </Heading>
  );
  const top = (
    <>
      {head}
      {toolbar}
    </>
  );
  if (error)
    return (
      <section aria-labelledby={`pipeline-${app}`}>
        {top}
        <ErrorNote error={error} />
      </section>
    );
  if (!commits.data || !builds.data || !deployments.data || !environments.data)
    return (
      <section aria-labelledby={`pipeline-${app}`}>
        {top}
        <Loading what={`the commits of ${app}`} />
      </section>
    );
  const order = promotionOrder(environments.data);
  const envs = order
    .map((name) => environments.data.find((e) => e.env === name))
    .filter((e) => e !== undefined);
  const rows = pipelineRows(commits.data, builds.data, deployments.data, envs);
  return (
    <section aria-labelledby={`pipeline-${app}`} className="pipeline">
      {top}
      {rows.length === 0 ? (
        <p className="panel">
          No commit of {app} seen yet. Push to its main branch; Gantry builds every commit.
        </p>
      ) : (
        <div className="table-wrap panel pipeline-wrap">
          <table className="pipeline-table">
            <caption className="visually-hidden">
              Commits of {app}, newest first, with their build and the environments each reached
            </caption>
            <thead>
              <tr>
                <th scope="col">Commit</th>
                <th scope="col">Build</th>
                {envs.map((e) => (
                  <th scope="col" key={e.env}>
                    {e.env}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.commit.sha} data-sha={r.commit.sha}>
                  <th scope="row" className="pipeline-commit">
                    <ShortSha sha={r.commit.sha} />{' '}
                    <span className="pipeline-subject">{r.commit.message.split('\n')[0]}</span>
                    <div className="muted small">
                      {r.commit.authorName} · <RelativeTime iso={r.commit.committedAt} />
                    </div>
                  </th>
                  <td>
                    <MatrixCell
                      cell={r.build}
                      what="build"
                      href={`/apps/${enc(app)}/builds/${enc(r.build.id ?? '')}`}
                    />
                  </td>
                  {envs.map((e) => {
                    const cell = r.envs[e.env] ?? { status: null, id: null, count: 0 };
                    return (
                      <td key={e.env}>
                        <MatrixCell
                          cell={cell}
                          what={e.env}
                          href={`/apps/${enc(app)}/deployments/${enc(cell.id ?? '')}`}
                        />
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** `/commits`: every app's newest commits, or pick one. */
export function CommitsPage() {
  const apps = useApps();
  if (apps.isPending) return <Loading what="the apps" />;
  if (apps.error) return <ErrorNote error={apps.error} />;
  if (apps.data.length === 1 && apps.data[0]) {
    const only = apps.data[0].name;
    return <PipelineMatrix app={only} limit={50} heading={1} />;
  }
  return (
    <div className="stack">
      <h1>Commits</h1>
      <AppPicker current={null} />
      {apps.data.length === 0 ? (
        <p className="panel">
          No app yet. Add one with <code>gantry app add &lt;name&gt; &lt;repo&gt;</code>.
        </p>
      ) : null}
      {apps.data.map((a) => (
        <PipelineMatrix key={a.id} app={a.name} limit={10} heading={2} />
      ))}
    </div>
  );
}

/** `/apps/:app/commits`: one app's commits of main and how far each got. */
export function AppCommitsPage() {
  const { app = '' } = useParams<{ app: string }>();
  return <PipelineMatrix app={app} limit={50} heading={1} toolbar={<AppPicker current={app} />} />;
}
