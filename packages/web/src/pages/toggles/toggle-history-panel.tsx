import { useQuery } from '@tanstack/react-query';
import { Link } from 'wouter';
import { api, ok } from '../../api/client';
import { TimeFromNow } from '../../components/time-from-now';
import { ErrorNote, Loading } from '../../components/ui';
import { toggleHistory } from './toggle-history';

/** A toggle's change history, newest first, from the event log (the same one `gantry events` reads). */
export function ToggleHistoryPanel({ app, name }: { app: string; name: string }) {
  const q = useQuery({
    queryKey: ['toggle', app, name, 'history'],
    queryFn: async () =>
      toggleHistory(
        await ok(api.GET('/api/events', { params: { query: { app, subject: name, limit: 1000 } } })),
      ),
  });
  return (
    <section className="panel" aria-labelledby="history">
      <h2 id="history">History</h2>
      {q.isPending ? <Loading what="the history" /> : null}
      <ErrorNote error={q.error} />
      {q.data?.length === 0 ? <p className="muted small">No change yet.</p> : null}
      <ol className="history" aria-label={`Changes to ${name}, newest first`}>
        {q.data?.map((h) => (
          <li key={h.id}>
            <div className="small muted">
              <TimeFromNow iso={h.at} /> · {h.actor}
              {h.env ? ` · ${h.env}` : ''}
              {h.release ? (
                <>
                  {' · '}
                  {h.release.revert ? 'revert of release ' : 'release '}
                  <Link href={`/releases/${encodeURIComponent(h.release.name)}`}>{h.release.name}</Link>
                </>
              ) : null}
            </div>
            <div>{h.what.join('; ')}</div>
          </li>
        ))}
      </ol>
    </section>
  );
}
