import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { api, ok } from '../../api/client';
import { Dialog, ErrorNote, Loading } from '../../components/ui';
import { Field } from '../toggles/field';
import { type Release, type ReleaseChange, useCurrentStates } from './release-api';
import { afterChange, describeMove, fromLocalInput, type StateSpec, toLocalInput } from './release-words';

type Action = 'apply' | 'revert' | 'cancel' | 'unschedule';

function call(action: Action, name: string): Promise<Release> {
  const params = { params: { path: { name } } };
  if (action === 'apply') return ok(api.POST('/api/releases/{name}/apply', params));
  if (action === 'revert') return ok(api.POST('/api/releases/{name}/revert', params));
  if (action === 'cancel') return ok(api.POST('/api/releases/{name}/cancel', params));
  return ok(api.POST('/api/releases/{name}/unschedule', params));
}

const key = (c: ReleaseChange) => `${c.app}/${c.toggle}/${c.env}`;

/** What each change will do, from the toggles' state now: "new-checkout in production: off → on". */
function WhatChanges({ release, action }: { release: Release; action: 'apply' | 'revert' }) {
  const current = useCurrentStates(release.changes);
  if (!current) return <Loading what="the toggles' current state" />;
  return (
    <ul aria-label={action === 'apply' ? 'What will change' : 'What will be put back'}>
      {release.changes.map((c) => {
        const now = current.get(key(c)) ?? { enabled: false, strategies: [], variants: [] };
        const to =
          action === 'apply'
            ? afterChange(now, c.change as Parameters<typeof afterChange>[1])
            : ((c.before as StateSpec | null) ?? { enabled: false, strategies: [], variants: [] });
        return (
          <li key={c.idx}>
            <strong>{c.toggle}</strong> in <strong>{c.env}</strong> ({c.app}): {describeMove(now, to)}
          </li>
        );
      })}
    </ul>
  );
}

const CONFIRM: Record<'apply' | 'revert' | 'cancel', { title: string; lead: string; button: string }> = {
  apply: {
    title: 'Apply this release now?',
    lead: 'These changes go live together, at once; SDKs pick them up at their next fetch.',
    button: 'Apply now',
  },
  revert: {
    title: 'Revert this release?',
    lead: 'Every toggle it changed goes back to the state it had before the release.',
    button: 'Revert',
  },
  cancel: {
    title: 'Cancel this release?',
    lead: 'It will never be applied. Nothing changes for users.',
    button: 'Cancel release',
  },
};

/** Schedule, unschedule, apply, revert and cancel; the last three after a confirmation. */
export function ReleaseActions({ release }: { release: Release }) {
  const qc = useQueryClient();
  const [confirm, setConfirm] = useState<'apply' | 'revert' | 'cancel' | null>(null);
  const [when, setWhen] = useState(() => toLocalInput(new Date(Date.now() + 60 * 60_000)));
  const done = (r: Release) => {
    qc.setQueryData(['release', r.name], r);
    void qc.invalidateQueries({ queryKey: ['releases'] });
  };
  const act = useMutation({
    mutationFn: (a: Action) => call(a, release.name),
    onSuccess: (r) => {
      done(r);
      setConfirm(null);
    },
  });
  const schedule = useMutation({
    mutationFn: () => {
      const at = fromLocalInput(when);
      if (!at) throw new Error('Pick a date and a time to schedule it for.');
      return ok(
        api.POST('/api/releases/{name}/schedule', { params: { path: { name: release.name } }, body: { at } }),
      );
    },
    onSuccess: done,
  });
  const s = release.status;
  const editable = s === 'draft' || s === 'scheduled';
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const submitSchedule = (e: FormEvent) => {
    e.preventDefault();
    schedule.mutate();
  };
  return (
    <section className="panel" aria-labelledby="release-actions">
      <h2 id="release-actions">Actions</h2>
      {editable ? (
        <form onSubmit={submitSchedule} noValidate className="row" style={{ alignItems: 'flex-end' }}>
          <Field
            id="release-when"
            label={s === 'scheduled' ? 'Reschedule for' : 'Schedule for'}
            hint={`Your time zone: ${zone}`}
          >
            {(p) => (
              <input
                {...p}
                type="datetime-local"
                step={1}
                value={when}
                onChange={(e) => setWhen(e.target.value)}
              />
            )}
          </Field>
          <div className="field">
            <button type="submit" disabled={schedule.isPending || release.changes.length === 0}>
              {schedule.isPending ? 'Scheduling…' : 'Schedule'}
            </button>
          </div>
        </form>
      ) : null}
      <ErrorNote error={schedule.error} />
      <div className="row">
        {s === 'scheduled' ? (
          <button type="button" disabled={act.isPending} onClick={() => act.mutate('unschedule')}>
            Unschedule
          </button>
        ) : null}
        {editable ? (
          <button
            type="button"
            className="primary"
            disabled={release.changes.length === 0}
            onClick={() => {
              act.reset();
              setConfirm('apply');
            }}
          >
            Apply now…
          </button>
        ) : null}
        {s === 'applied' ? (
          <button
            type="button"
            className="danger"
            onClick={() => {
              act.reset();
              setConfirm('revert');
            }}
          >
            Revert…
          </button>
        ) : null}
        {editable || s === 'failed' ? (
          <button
            type="button"
            className="danger"
            onClick={() => {
              act.reset();
              setConfirm('cancel');
            }}
          >
            Cancel release…
          </button>
        ) : null}
      </div>
      {!confirm ? <ErrorNote error={act.error} /> : null}
      {editable && release.changes.length === 0 ? (
        <p className="muted small">Add a change before applying or scheduling it.</p>
      ) : null}
      <Dialog
        open={confirm !== null}
        onClose={() => setConfirm(null)}
        title={confirm ? CONFIRM[confirm].title : 'Confirm'}
      >
        {confirm ? (
          <>
            <p>{CONFIRM[confirm].lead}</p>
            {confirm !== 'cancel' ? <WhatChanges release={release} action={confirm} /> : null}
            <ErrorNote error={act.error} />
            <div className="actions">
              <button type="button" onClick={() => setConfirm(null)}>
                Keep it as it is
              </button>
              <button
                type="button"
                className={confirm === 'apply' ? 'primary' : 'danger'}
                disabled={act.isPending}
                onClick={() => act.mutate(confirm)}
              >
                {act.isPending ? 'Working…' : CONFIRM[confirm].button}
              </button>
            </div>
          </>
        ) : null}
      </Dialog>
    </section>
  );
}
