import { Link } from 'wouter';
import { useSession } from '../../api/session';
import { TimeFromNow } from '../../components/time-from-now';
import { ErrorNote, Loading, StatusBadge } from '../../components/ui';
import { type Release, releasePath, useReleases } from './release-api';
import './releases.css';

function When({ r }: { r: Release }) {
  if (r.status === 'scheduled' && r.scheduledAt)
    return (
      <>
        scheduled for {new Date(r.scheduledAt).toLocaleString()} (<TimeFromNow iso={r.scheduledAt} />)
      </>
    );
  if (r.status === 'applied' && r.appliedAt)
    return (
      <>
        applied <TimeFromNow iso={r.appliedAt} />
      </>
    );
  if (r.status === 'reverted' && r.revertedAt)
    return (
      <>
        reverted <TimeFromNow iso={r.revertedAt} />
      </>
    );
  return (
    <>
      created by {r.createdBy} <TimeFromNow iso={r.createdAt} />
    </>
  );
}

/** Every release with its status: what is planned, what is live, what was reverted. */
export function ReleaseListPage() {
  const session = useSession();
  const releases = useReleases();
  const sorted = [...(releases.data ?? [])].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  return (
    <>
      <div className="row" style={{ justifyContent: 'space-between' }}>
        <h1>Releases</h1>
        {session.can('releases:write') ? (
          <Link href="/releases/new" className="button primary">
            New release
          </Link>
        ) : null}
      </div>
      <p className="muted">
        A release makes features available to people: a planned bundle of toggle changes, applied together
        when you decide, independent of any deployment.
      </p>
      {releases.isPending ? <Loading what="the releases" /> : null}
      <ErrorNote error={releases.error} />
      {releases.data?.length === 0 ? (
        <p className="panel">
          No release yet.{session.can('releases:write') ? ' Start one with “New release”.' : ''}
        </p>
      ) : null}
      <ul className="release-list" aria-label="Releases, newest first">
        {sorted.map((r) => (
          <li key={r.id} className="panel" data-testid={`release-${r.name}`}>
            <h2>
              <Link href={releasePath(r.name)}>{r.name}</Link> <StatusBadge status={r.status} />
            </h2>
            <div className="small muted">
              {r.changes.length} change{r.changes.length === 1 ? '' : 's'} · <When r={r} />
            </div>
          </li>
        ))}
      </ul>
    </>
  );
}
