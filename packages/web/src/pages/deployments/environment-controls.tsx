import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { api, ok } from '../../api/client';
import { useSession } from '../../api/session';
import type { ResponseOf } from '../../api/types';
import { ErrorNote, RelativeTime, ShortSha } from '../../components/ui';

type EnvironmentState = ResponseOf<'/api/status'>[number];

/** Lock with a reason / unlock, and release a hold: the same routes as `gantry lock`, `unlock`, `hold release`. */
export function EnvironmentControls({ s }: { s: EnvironmentState }) {
  const { can } = useSession();
  const qc = useQueryClient();
  const [reason, setReason] = useState('');
  const path = { app: s.app, env: s.env };
  const refresh = () => qc.invalidateQueries({ queryKey: ['environments'] });
  const lock = useMutation({
    mutationFn: () =>
      ok(
        api.POST('/api/apps/{app}/environments/{env}/lock', {
          params: { path },
          body: reason.trim() ? { reason: reason.trim() } : {},
        }),
      ),
    onSuccess: () => {
      setReason('');
      void refresh();
    },
  });
  const unlock = useMutation({
    mutationFn: () => ok(api.DELETE('/api/apps/{app}/environments/{env}/lock', { params: { path } })),
    onSuccess: () => void refresh(),
  });
  const release = useMutation({
    mutationFn: () => ok(api.DELETE('/api/apps/{app}/environments/{env}/hold', { params: { path } })),
    onSuccess: () => void refresh(),
  });
  const allowed = can('environments:write');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    lock.mutate();
  };
  return (
    <section className="panel" aria-labelledby="controls-h">
      <h2 id="controls-h">Lock and hold</h2>
      {s.lock ? (
        <div className="stack">
          <p data-testid="lock-state">
            Locked by {s.lock.by} <RelativeTime iso={s.lock.since} />
            {s.lock.reason ? `: ${s.lock.reason}` : ''}. No deployment to {s.env} starts until it is unlocked.
          </p>
          {allowed ? (
            <button type="button" onClick={() => unlock.mutate()} disabled={unlock.isPending}>
              Unlock {s.env}
            </button>
          ) : null}
        </div>
      ) : allowed ? (
        <form className="env-actions" onSubmit={submit}>
          <div className="field">
            <label htmlFor="lock-reason">
              Reason <span className="hint">(shown to whoever tries to deploy)</span>
            </label>
            <input id="lock-reason" value={reason} onChange={(e) => setReason(e.target.value)} />
          </div>
          <button type="submit" disabled={lock.isPending}>
            Lock {s.env}
          </button>
        </form>
      ) : (
        <p data-testid="lock-state">Not locked.</p>
      )}
      <ErrorNote error={lock.error ?? unlock.error} />
      <div className="stack" style={{ marginTop: '0.75rem' }}>
        {s.hold ? (
          <>
            <p data-testid="hold-state">
              Holding <ShortSha sha={s.hold.sha} /> back <RelativeTime iso={s.hold.since} />
              {s.hold.reason ? ` (${s.hold.reason})` : ''}: auto-deploy will not bring it back until the hold
              is released.
            </p>
            {allowed ? (
              <button type="button" onClick={() => release.mutate()} disabled={release.isPending}>
                Release the hold
              </button>
            ) : null}
          </>
        ) : (
          <p className="muted small">
            No hold. A rollback holds the release it rolled back from, so auto-deploy does not bring it back.
          </p>
        )}
        <ErrorNote error={release.error} />
      </div>
    </section>
  );
}
