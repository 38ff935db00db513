import { useQuery } from '@tanstack/react-query';
import { Link } from 'wouter';
import { api, ok } from '../../api/client';
import type { ResponseOf } from '../../api/types';
import { Badge, ErrorNote, Loading, RelativeTime, ShortSha, StatusBadge } from '../../components/ui';

export type EnvironmentState = ResponseOf<'/api/status'>[number];

export function useStatus() {
  return useQuery({ queryKey: ['status'], queryFn: () => ok(api.GET('/api/status')) });
}

function health(s: EnvironmentState): { status: string; label: string } {
  if (!s.current) return { status: 'pending', label: 'nothing deployed' };
  if (!s.health) return { status: 'unknown', label: 'health unknown' };
  return s.health.healthy
    ? { status: 'healthy', label: 'healthy' }
    : { status: 'unhealthy', label: 'unhealthy' };
}

export function EnvironmentCell({ s }: { s: EnvironmentState }) {
  const h = health(s);
  return (
    <section className="cell" aria-label={`${s.app} ${s.env}`} data-testid={`cell-${s.app}-${s.env}`}>
      <h3>
        <Link href={`/apps/${encodeURIComponent(s.app)}/environments/${encodeURIComponent(s.env)}`}>
          {s.env}
        </Link>{' '}
        <StatusBadge status={h.status} label={h.label} />
      </h3>
      {s.current ? (
        <div className="small">
          <div>
            <ShortSha sha={s.current.sha} /> {s.commit?.message.split('\n')[0]}
          </div>
          <div className="muted">
            {s.commit?.authorName} · <RelativeTime iso={s.current.finishedAt ?? s.current.requestedAt} />
          </div>
        </div>
      ) : (
        <p className="small muted">Nothing deployed yet.</p>
      )}
      <div className="row small" style={{ marginTop: '0.3rem' }}>
        {s.lock ? (
          <Badge tone="warn" title={s.lock.reason ?? undefined}>
            locked by {s.lock.by}
          </Badge>
        ) : null}
        {s.hold ? <Badge tone="warn">held</Badge> : null}
        {s.protected ? <Badge tone="info">protected</Badge> : null}
        {s.queue.length ? <Badge tone="info">{s.queue.length} queued</Badge> : null}
      </div>
    </section>
  );
}

/** Apps × environments: what runs where, its health, locks and holds. */
export function BoardPage() {
  const status = useStatus();
  if (status.isPending) return <Loading what="the board" />;
  if (status.error) return <ErrorNote error={status.error} />;
  const byApp = new Map<string, EnvironmentState[]>();
  for (const s of status.data) byApp.set(s.app, [...(byApp.get(s.app) ?? []), s]);
  return (
    <>
      <h1>Board</h1>
      {byApp.size === 0 ? (
        <p className="panel">
          No app yet. Add one with <code>gantry app add &lt;name&gt; &lt;repo&gt;</code>.
        </p>
      ) : null}
      <div className="board">
        {[...byApp].map(([app, envs]) => (
          <section key={app} className="panel board-app" aria-labelledby={`app-${app}`}>
            <h2 id={`app-${app}`}>{app}</h2>
            <div className="board-row">
              {envs.map((s) => (
                <EnvironmentCell key={s.env} s={s} />
              ))}
            </div>
          </section>
        ))}
      </div>
    </>
  );
}
