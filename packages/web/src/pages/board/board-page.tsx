import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'wouter';
import { api, ok } from '../../api/client';
import { useSession } from '../../api/session';
import type { ResponseOf } from '../../api/types';
import { Badge, ErrorNote, Loading, RelativeTime, ShortSha, StatusBadge } from '../../components/ui';
import { ApprovalLine } from '../approvals/approval-line';
import { type ApprovalRequest, usePendingApprovals } from '../approvals/approval-queries';
import { VerificationBadge } from '../deployments/verification';
import { triggerWords } from '../deployments/verification-words';
import './board.css';
import { type BoardEntry, useBoardExtras } from './board-queries';
import { type Deployment, PromoteDialog } from './promote-dialog';
import { commitCount, promotionOrder } from './promotion-order';
import { RollbackDialog } from './rollback-dialog';

export type EnvironmentState = ResponseOf<'/api/status'>[number];

export const statusQuery = { queryKey: ['status'], queryFn: () => ok(api.GET('/api/status')) };

export function useStatus(enabled = true) {
  return useQuery({ ...statusQuery, enabled });
}

function health(s: EnvironmentState): { status: string; label: string } {
  if (!s.current) return { status: 'pending', label: 'nothing deployed' };
  if (!s.health) return { status: 'unknown', label: 'health unknown' };
  return s.health.healthy
    ? { status: 'healthy', label: 'healthy' }
    : { status: 'unhealthy', label: 'unhealthy' };
}

type Action = { kind: 'promote' | 'rollback'; s: EnvironmentState };

export function EnvironmentCell({
  s,
  extra,
  awaiting = [],
  onAction,
}: {
  s: EnvironmentState;
  extra?: BoardEntry;
  /** Requests to this environment waiting for approval. */
  awaiting?: ApprovalRequest[];
  onAction?: (a: Action) => void;
}) {
  const h = health(s);
  const enc = encodeURIComponent;
  const waiting = extra?.waiting ?? null;
  return (
    <section className="cell" aria-label={`${s.app} ${s.env}`} data-testid={`cell-${s.app}-${s.env}`}>
      <h3>
        <Link href={`/apps/${enc(s.app)}/environments/${enc(s.env)}`}>{s.env}</Link>{' '}
        <StatusBadge status={h.status} label={h.label} />
      </h3>
      {s.current ? (
        <div className="small">
          <div data-testid="running">
            <ShortSha sha={s.current.sha} /> <VerificationBadge verification={s.current.verification} />{' '}
            {s.commit?.message.split('\n')[0]}
          </div>
          {s.current.trigger === 'auto-rollback' || s.current.trigger === 'bisect' ? (
            <div className="muted" data-testid="running-trigger">
              {triggerWords(s.current.trigger)}
            </div>
          ) : null}
          <div className="muted">
            {s.commit?.authorName} ·{' '}
            <Link href={`/apps/${enc(s.app)}/deployments/${enc(s.current.id)}`} className="muted-link">
              deployed <RelativeTime iso={s.current.finishedAt ?? s.current.requestedAt} />
            </Link>
          </div>
        </div>
      ) : (
        <p className="small muted">Nothing deployed yet.</p>
      )}
      {extra?.standby ? (
        <div className="small muted" data-testid="standby">
          Standby: <ShortSha sha={extra.standby.sha} /> {extra.standby.commit?.subject ?? ''}
        </div>
      ) : null}
      {awaiting.map((r) => (
        <ApprovalLine key={r.deploymentId} req={r} />
      ))}
      <div className="row small badges">
        {s.lock ? (
          <Badge tone="warn" title={s.lock.reason ?? undefined}>
            locked by {s.lock.by}
          </Badge>
        ) : null}
        {s.hold ? (
          <Badge tone="warn" title={s.hold.reason ?? undefined}>
            held: {s.hold.sha.slice(0, 8)}
          </Badge>
        ) : null}
        {s.protected ? <Badge tone="info">protected</Badge> : null}
        {s.queue.length ? <Badge tone="info">{s.queue.length} queued</Badge> : null}
        {s.promoteFrom && waiting !== null ? (
          <Badge tone={waiting > 0 ? 'info' : 'neutral'}>
            {waiting > 0
              ? `${commitCount(waiting)} waiting in ${s.promoteFrom}`
              : `up to date with ${s.promoteFrom}`}
          </Badge>
        ) : null}
      </div>
      {onAction ? (
        <div className="actions">
          {s.promoteFrom ? (
            <button
              type="button"
              className="primary"
              disabled={waiting === 0 || !extra?.upstreamSha}
              onClick={() => onAction({ kind: 'promote', s })}
              aria-label={`Promote ${s.app} ${s.env} from ${s.promoteFrom}`}
            >
              Promote
            </button>
          ) : null}
          {s.current ? (
            <button
              type="button"
              onClick={() => onAction({ kind: 'rollback', s })}
              aria-label={`Roll back ${s.app} ${s.env}`}
            >
              Roll back
            </button>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}

/** Apps × environments in promotion order: what runs where, its health, locks, holds, promote and roll back. */
export function BoardPage() {
  const session = useSession();
  const status = useStatus(session.can('apps:read'));
  const extras = useBoardExtras(status.isSuccess);
  const pending = usePendingApprovals({}, status.isSuccess);
  const [action, setAction] = useState<Action | null>(null);
  const [started, setStarted] = useState<Deployment | null>(null);
  if (!session.can('apps:read'))
    return (
      <>
        <h1>Board</h1>
        <p className="panel">
          This session may read the delivery metrics only. See <Link href="/metrics">Metrics</Link>.
        </p>
      </>
    );
  if (status.isPending)
    return (
      <>
        <h1>Board</h1>
        <Loading what="the board" />
      </>
    );
  if (status.error)
    return (
      <>
        <h1>Board</h1>
        <ErrorNote error={status.error} />
      </>
    );
  const byApp = new Map<string, EnvironmentState[]>();
  for (const s of status.data) byApp.set(s.app, [...(byApp.get(s.app) ?? []), s]);
  const extraOf = (s: EnvironmentState) => extras.data?.find((e) => e.app === s.app && e.env === s.env);
  const awaitingIn = (s: EnvironmentState) =>
    pending.data?.filter((r) => r.app === s.app && r.env === s.env) ?? [];
  const canDeploy = session.can('deployments:write');
  const done = (d: Deployment) => {
    setAction(null);
    setStarted(d);
  };
  return (
    <>
      <h1>Board</h1>
      {started ? (
        <p className="notice" role="status">
          {started.trigger === 'rollback' ? 'Rollback' : 'Deployment'} of <ShortSha sha={started.sha} /> to{' '}
          {started.env} {started.status}
          {started.tag ? (
            <>
              {' '}
              (tagged <code>{started.tag}</code>)
            </>
          ) : null}
          .{' '}
          <Link
            href={`/apps/${encodeURIComponent(started.app)}/deployments/${encodeURIComponent(started.id)}`}
          >
            Follow it
          </Link>
        </p>
      ) : null}
      {byApp.size === 0 ? (
        <p className="panel">
          No app yet. Add one with <code>gantry app add &lt;name&gt; &lt;repo&gt;</code>.
        </p>
      ) : null}
      <ErrorNote error={extras.error} />
      <div className="board">
        {[...byApp].map(([app, envs]) => (
          <section key={app} className="panel board-app" aria-labelledby={`app-${app}`}>
            <h2 id={`app-${app}`}>{app}</h2>
            <div className="board-row">
              {promotionOrder(envs).map((s) => (
                <EnvironmentCell
                  key={s.env}
                  s={s}
                  extra={extraOf(s)}
                  awaiting={awaitingIn(s)}
                  onAction={canDeploy ? setAction : undefined}
                />
              ))}
            </div>
          </section>
        ))}
      </div>
      {action?.kind === 'promote' ? (
        <PromoteDialog
          app={action.s.app}
          env={action.s.env}
          lock={action.s.lock}
          onClose={() => setAction(null)}
          onStarted={done}
        />
      ) : null}
      {action?.kind === 'rollback' ? (
        <RollbackDialog
          app={action.s.app}
          env={action.s.env}
          isProtected={action.s.protected}
          lock={action.s.lock}
          onClose={() => setAction(null)}
          onStarted={done}
        />
      ) : null}
    </>
  );
}
