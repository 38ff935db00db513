import { useMutation } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { api, ok } from '../../api/client';
import { Badge, Dialog, ErrorNote, Loading, RelativeTime, ShortSha } from '../../components/ui';
import { useRollbackChoices } from './board-queries';
import { type Deployment, LockedNote, type LockNote } from './promote-dialog';

/**
 * Rollback: pick an earlier release (what `gantry rollback` would pick is preselected, a warm
 * standby is marked instant), then the same request as `gantry rollback <env> [--to <sha>]`.
 */
export function RollbackDialog({
  app,
  env,
  isProtected,
  lock,
  onClose,
  onStarted,
}: {
  app: string;
  env: string;
  isProtected: boolean;
  lock: LockNote | null;
  onClose: () => void;
  onStarted: (d: Deployment) => void;
}) {
  const choices = useRollbackChoices(app, env);
  const [picked, setPicked] = useState<string | null>(null);
  const [reason, setReason] = useState('');
  const [confirmed, setConfirmed] = useState(false);
  const c = choices.data;
  const selected = picked ?? c?.suggested.sha ?? c?.choices.find((x) => x.artifact)?.sha ?? null;
  const rollback = useMutation({
    mutationFn: async (to: string) => {
      const d = await ok(
        api.POST('/api/apps/{app}/environments/{env}/rollback', {
          params: { path: { app, env } },
          body: {
            // Like `gantry rollback` without --to when the pick is the server's own.
            ...(to !== c?.suggested.sha && { to }),
            confirm: isProtected ? confirmed : false,
            ...(reason.trim() && { reason: reason.trim() }),
          },
        }),
      );
      if (d.status === 'rejected') throw new Error(d.error ?? 'the rollback was refused');
      return d;
    },
    onSuccess: (d) => onStarted(d),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (selected) rollback.mutate(selected);
  };
  return (
    <Dialog open onClose={onClose} title={`Roll ${app} ${env} back`}>
      {choices.isPending ? <Loading what="earlier releases" /> : null}
      <ErrorNote error={choices.error} />
      {c ? (
        <form onSubmit={submit}>
          <p className="small">
            {env} runs <ShortSha sha={c.currentSha} />.{' '}
            {c.suggested.sha
              ? `Gantry would pick ${c.suggested.sha.slice(0, 8)}: ${c.suggested.why}.`
              : c.suggested.why}
          </p>
          {c.choices.length === 0 ? (
            <p className="muted">No earlier release: {env} has run only this one.</p>
          ) : (
            <fieldset className="choices">
              <legend>Earlier release to run</legend>
              {c.choices.map((x) => (
                <div key={x.sha} className="choice" data-testid={`rollback-choice-${x.sha.slice(0, 8)}`}>
                  <input
                    type="radio"
                    name="rollback-to"
                    id={`rb-${x.sha}`}
                    value={x.sha}
                    checked={selected === x.sha}
                    disabled={!x.artifact}
                    onChange={() => setPicked(x.sha)}
                  />
                  <label htmlFor={`rb-${x.sha}`}>
                    <ShortSha sha={x.sha} /> {x.commit?.subject ?? ''}{' '}
                    {x.instant ? <Badge tone="ok">instant: warm standby</Badge> : null}
                    {x.sha === c.suggested.sha ? <Badge tone="info">suggested</Badge> : null}
                    {!x.artifact ? <Badge tone="warn">artifact gone</Badge> : null}
                    <span className="choice-meta small muted">
                      {x.commit ? `${x.commit.authorName} · ` : ''}ran until{' '}
                      <RelativeTime iso={x.deployedAt} />
                      {x.note ? ` · ${x.note}` : ''}
                    </span>
                  </label>
                </div>
              ))}
            </fieldset>
          )}
          <LockedNote env={env} lock={lock} />
          {isProtected ? (
            <div className="field check">
              <input
                id="rollback-confirm"
                type="checkbox"
                checked={confirmed}
                onChange={(e) => setConfirmed(e.target.checked)}
              />
              <label htmlFor="rollback-confirm">{env} is protected: I confirm this rollback</label>
            </div>
          ) : null}
          <div className="field">
            <label htmlFor="rollback-reason">
              Reason <span className="hint">(optional)</span>
            </label>
            <input id="rollback-reason" value={reason} onChange={(e) => setReason(e.target.value)} />
          </div>
          <ErrorNote error={rollback.error} />
          <div className="actions">
            <button type="button" onClick={onClose}>
              Cancel
            </button>
            <button
              type="submit"
              className="danger"
              disabled={!selected || rollback.isPending || (isProtected && !confirmed)}
            >
              {rollback.isPending ? 'Rolling back…' : `Roll back to ${selected?.slice(0, 8) ?? '…'}`}
            </button>
          </div>
        </form>
      ) : null}
    </Dialog>
  );
}
