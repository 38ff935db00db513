import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Link, useParams } from 'wouter';
import { api, ok } from '../../api/client';
import { useSession } from '../../api/session';
import { TimeFromNow } from '../../components/time-from-now';
import { ErrorNote, Loading, StatusBadge } from '../../components/ui';
import { togglePath } from '../toggles/toggle-api';
import { AddChangeForm } from './add-change-form';
import { ReleaseActions } from './release-actions';
import { type Release, releasePath, STATUS_TEXT, useRelease } from './release-api';
import { describeChange } from './release-words';
import './releases.css';

function Timeline({ r }: { r: Release }) {
  const at = (iso: string) => (
    <>
      {new Date(iso).toLocaleString()} (<TimeFromNow iso={iso} />)
    </>
  );
  return (
    <ul className="small" aria-label="When">
      <li>
        Created by {r.createdBy}, {at(r.createdAt)}
      </li>
      {r.scheduledAt ? (
        <li data-testid="release-scheduled-at">
          {r.status === 'scheduled' ? 'Will be applied' : 'Was scheduled for'} {at(r.scheduledAt)}
        </li>
      ) : null}
      {r.appliedAt ? <li>Applied {at(r.appliedAt)}</li> : null}
      {r.revertedAt ? <li>Reverted {at(r.revertedAt)}</li> : null}
    </ul>
  );
}

function Changes({ r }: { r: Release }) {
  const session = useSession();
  const qc = useQueryClient();
  const remove = useMutation({
    mutationFn: (idx: number) =>
      ok(api.DELETE('/api/releases/{name}/changes/{idx}', { params: { path: { name: r.name, idx } } })),
    onSuccess: (nr) => qc.setQueryData(['release', r.name], nr),
  });
  const editable = (r.status === 'draft' || r.status === 'scheduled') && session.can('releases:write');
  return (
    <section className="panel" aria-labelledby="release-changes">
      <h2 id="release-changes">Changes</h2>
      {r.changes.length === 0 ? <p className="muted">No change yet.</p> : null}
      <ul className="release-changes">
        {r.changes.map((c) => (
          <li key={c.idx} data-testid={`change-${c.toggle}-${c.env}`}>
            <span>
              <Link href={togglePath(c.app, c.toggle)}>{c.toggle}</Link> in <strong>{c.env}</strong>{' '}
              <span className="muted small">({c.app})</span>: {describeChange(c.change)}
            </span>
            {editable ? (
              <button
                type="button"
                disabled={remove.isPending}
                onClick={() => remove.mutate(c.idx)}
                aria-label={`Remove the change to ${c.toggle} in ${c.env}`}
              >
                Remove
              </button>
            ) : null}
          </li>
        ))}
      </ul>
      <ErrorNote error={remove.error} />
      {editable ? <AddChangeForm release={r.name} /> : null}
    </section>
  );
}

/** One release: its status (live), notes, changes, and what a product owner can do with it. */
export function ReleasePage() {
  const { name = '' } = useParams<{ name: string }>();
  const session = useSession();
  const q = useRelease(name);
  const crumbs = (
    <p className="small">
      <Link href="/releases">Releases</Link> / {name}
    </p>
  );
  if (q.isPending)
    return (
      <>
        {crumbs}
        <Loading what="the release" />
      </>
    );
  if (q.error)
    return (
      <>
        {crumbs}
        <ErrorNote error={q.error} />
      </>
    );
  const r = q.data;
  return (
    <>
      {crumbs}
      <div className="release-head">
        <h1>
          {r.name} <StatusBadge status={r.status} />
        </h1>
        <p role="status" data-testid="release-status">
          {STATUS_TEXT[r.status]}
        </p>
        {r.error ? <p className="alert">{r.error}</p> : null}
        <Timeline r={r} />
      </div>
      <div className="stack">
        <section className="panel" aria-labelledby="release-notes">
          <h2 id="release-notes">Notes for stakeholders</h2>
          {r.notes ? <p className="release-notes">{r.notes}</p> : <p className="muted">No notes.</p>}
        </section>
        <Changes r={r} />
        {session.can('releases:write') ? <ReleaseActions release={r} /> : null}
        <p className="small">
          <Link href={releasePath(r.name)}>Link to this release</Link>
        </p>
      </div>
    </>
  );
}
