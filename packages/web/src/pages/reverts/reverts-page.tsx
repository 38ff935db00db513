import { useQuery } from '@tanstack/react-query';
import { Link, useParams } from 'wouter';
import { api, ok } from '../../api/client';
import { useSession } from '../../api/session';
import { ErrorNote, Loading } from '../../components/ui';
import { RevertCard } from './revert-card';
import { revertActive } from './revert-words';
import './reverts.css';

/** How many reverts the page reads; the route answers at most 500. */
const LIMIT = 200;

function useReverts(enabled: boolean) {
  return useQuery({
    queryKey: ['reverts', 'list'],
    queryFn: () => ok(api.GET('/api/reverts', { params: { query: { limit: LIMIT } } })),
    enabled,
  });
}

function NoAccess() {
  return (
    <p className="notice">
      Reverts are not readable with this sign-in: its token reads delivery metrics only.
    </p>
  );
}

/** Gantry's automatic reverts, newest first, each with its steps. Read-only. */
export function RevertsPage() {
  const session = useSession();
  const readable = session.can('apps:read');
  const list = useReverts(readable);
  const active = list.data?.filter((r) => revertActive(r.status)).length ?? 0;
  return (
    <div className="stack">
      <h1>Reverts</h1>
      <p className="muted">
        When the checks of an auto-deployed environment fail, Gantry makes sure the failure repeats and the
        environment itself is fine, finds the commit to blame, and reverts it: pushed to the main branch (
        <code>revert: {'{ on_check_failure: auto }'}</code>) or proposed on a branch.
      </p>
      {!readable ? <NoAccess /> : null}
      <ErrorNote error={list.error} />
      {list.isPending && readable ? <Loading what="reverts" /> : null}
      {list.isSuccess && list.data.length === 0 ? (
        <p className="panel" data-testid="no-reverts">
          No revert yet: no check of an auto-deployed environment has failed.
        </p>
      ) : null}
      {list.data?.length ? (
        <p className="small muted" role="status">
          {list.data.length} {list.data.length === 1 ? 'revert' : 'reverts'}
          {active ? `, ${active} in progress` : ''}
          {list.data.length === LIMIT ? ` (the newest ${LIMIT})` : ''}.
        </p>
      ) : null}
      {list.data?.map((r) => (
        <RevertCard key={r.id} r={r} linkTitle />
      ))}
    </div>
  );
}

/** One revert, as a deployment page links it. */
export function RevertPage() {
  const { id } = useParams<{ id: string }>();
  const session = useSession();
  const readable = session.can('apps:read');
  const list = useReverts(readable);
  const r = list.data?.find((x) => x.id === id);
  return (
    <div className="stack">
      <p className="small">
        <Link href="/reverts">Reverts</Link> › {id}
      </p>
      <h1>Revert</h1>
      {!readable ? <NoAccess /> : null}
      <ErrorNote error={list.error} />
      {list.isPending && readable ? <Loading what="the revert" /> : null}
      {list.isSuccess && !r ? (
        <p className="alert" role="alert">
          No revert {id} among the newest {LIMIT}. See <Link href="/reverts">all reverts</Link>.
        </p>
      ) : null}
      {r ? <RevertCard r={r} linkTitle={false} /> : null}
    </div>
  );
}
