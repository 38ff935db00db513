import { useMutation } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { api, ok } from '../../api/client';
import type { ResponseOf } from '../../api/types';
import { Dialog, ErrorNote, Loading, RelativeTime, ShortSha } from '../../components/ui';
import { usePromotion } from './board-queries';
import { commitCount } from './promotion-order';

export type Deployment = ResponseOf<'/api/deployments/{id}'>;
export type LockNote = { by: string; reason: string | null };

/** A lock does not refuse a deployment: it waits in the queue until the environment is unlocked. */
export function LockedNote({ env, lock }: { env: string; lock: LockNote | null }) {
  if (!lock) return null;
  return (
    <div className="notice" role="note">
      {env} is locked by {lock.by}
      {lock.reason ? ` (${lock.reason})` : ''}: the deployment waits in the queue until it is unlocked.
    </div>
  );
}

/**
 * Promote: deploy what the upstream environment runs, through the same request as
 * `gantry deploy <env> <sha>` (a deploy tag is created and pushed). Lists exactly the commits that
 * go out and the artifact's digest before anything happens.
 */
export function PromoteDialog({
  app,
  env,
  lock,
  onClose,
  onStarted,
}: {
  app: string;
  env: string;
  lock: LockNote | null;
  onClose: () => void;
  onStarted: (d: Deployment) => void;
}) {
  const preview = usePromotion(app, env);
  const [reason, setReason] = useState('');
  const [confirmed, setConfirmed] = useState(false);
  const promote = useMutation({
    mutationFn: async (p: { sha: string; confirm: boolean }) => {
      const d = await ok(
        api.POST('/api/apps/{app}/deployments', {
          params: { path: { app } },
          body: {
            env,
            ref: p.sha,
            tag: true,
            force: false,
            confirm: p.confirm,
            dryRun: false,
            ...(reason.trim() && { reason: reason.trim() }),
          },
        }),
      );
      if ('dryRun' in d) throw new Error('the server answered with a dry run; nothing was deployed');
      if (d.status === 'rejected') throw new Error(d.error ?? 'the deployment was refused');
      return d;
    },
    onSuccess: (d) => onStarted(d),
  });
  const p = preview.data;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (p) promote.mutate({ sha: p.sha, confirm: p.protected ? confirmed : false });
  };
  return (
    <Dialog open onClose={onClose} title={`Promote ${app} to ${env}`}>
      {preview.isPending ? <Loading what="what would go out" /> : null}
      <ErrorNote error={preview.error} />
      {p ? (
        <form onSubmit={submit} className="promote-form">
          <p>
            Deploys <ShortSha sha={p.sha} />, what <strong>{p.from}</strong> runs, to <strong>{p.to}</strong>
            {p.currentSha ? (
              <>
                {' '}
                (now <ShortSha sha={p.currentSha} />)
              </>
            ) : null}
            . Gantry tags it <code>deploy/{p.to}/…</code> and pushes the tag, as <code>gantry deploy</code>{' '}
            does.
          </p>
          <dl className="facts small">
            <dt>Artifact</dt>
            <dd data-testid="promote-digest">
              {p.artifact ? (
                <code className="mono wrap">{p.artifact.digest}</code>
              ) : (
                'none: it was never built'
              )}
            </dd>
          </dl>
          <h3 className="small-heading">
            {p.commits ? `${commitCount(p.commits.length)} will go out` : 'Commits that will go out'}
          </h3>
          {p.commits === null ? (
            <p className="muted small">
              Git cannot tell which commits differ (a SHA is missing from the mirror).
            </p>
          ) : p.commits.length === 0 ? (
            <p className="muted small">No new commit: the same code is deployed again.</p>
          ) : (
            <ul className="commit-list" aria-label="Commits that will go out" data-testid="promote-commits">
              {p.commits.map((c) => (
                <li key={c.sha}>
                  <ShortSha sha={c.sha} /> {c.subject}{' '}
                  <span className="muted small">
                    {c.authorName} · <RelativeTime iso={c.committedAt} />
                  </span>
                </li>
              ))}
            </ul>
          )}
          <LockedNote env={p.to} lock={lock} />
          {p.refused ? (
            <div className="notice" role="note">
              The server would refuse this now: {p.refused}
            </div>
          ) : null}
          {p.protected ? (
            <div className="field check">
              <input
                id="promote-confirm"
                type="checkbox"
                checked={confirmed}
                onChange={(e) => setConfirmed(e.target.checked)}
              />
              <label htmlFor="promote-confirm">{p.to} is protected: I confirm this deployment</label>
            </div>
          ) : null}
          <div className="field">
            <label htmlFor="promote-reason">
              Reason <span className="hint">(optional, kept with the deployment and the tag)</span>
            </label>
            <input id="promote-reason" value={reason} onChange={(e) => setReason(e.target.value)} />
          </div>
          <ErrorNote error={promote.error} />
          <div className="actions">
            <button type="button" onClick={onClose}>
              Cancel
            </button>
            <button
              type="submit"
              className="primary"
              disabled={promote.isPending || (p.protected && !confirmed)}
            >
              {promote.isPending ? 'Promoting…' : `Promote to ${p.to}`}
            </button>
          </div>
        </form>
      ) : (
        <div className="actions">
          <button type="button" onClick={onClose}>
            Close
          </button>
        </div>
      )}
    </Dialog>
  );
}
