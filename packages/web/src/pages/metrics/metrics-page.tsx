import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useSearchParams } from 'wouter';
import { api, ok } from '../../api/client';
import { ErrorNote, Loading } from '../../components/ui';
import { BuildTimes, DeploymentsAndReleases, Rework, RollbackTimes } from './delivery-sections';
import { FourKeys } from './four-keys';
import { customRange, lastDays, RANGES, type Range } from './metrics-format';
import './metrics.css';

/** The window the URL asks for: `range=<days>` (default 30), or `range=custom&from=<day>&to=<day>`. */
function rangeOf(params: URLSearchParams): Range {
  if (params.get('range') === 'custom') {
    const r = customRange(params.get('from') ?? '', params.get('to') ?? '');
    if (r) return r;
  }
  const days = Number(params.get('range'));
  return lastDays(RANGES.includes(days as (typeof RANGES)[number]) ? days : 30);
}

function CustomRange({ onApply }: { onApply: (from: string, to: string) => void }) {
  const today = new Date().toISOString().slice(0, 10);
  const [from, setFrom] = useState(new Date(Date.now() - 13 * 86_400_000).toISOString().slice(0, 10));
  const [to, setTo] = useState(today);
  const valid = customRange(from, to) !== null;
  return (
    <div className="row metrics-custom">
      <div className="field">
        <label htmlFor="metrics-from">From</label>
        <input
          id="metrics-from"
          type="date"
          value={from}
          max={to}
          onChange={(e) => setFrom(e.target.value)}
        />
      </div>
      <div className="field">
        <label htmlFor="metrics-to">To (included)</label>
        <input id="metrics-to" type="date" value={to} min={from} onChange={(e) => setTo(e.target.value)} />
      </div>
      <button type="button" disabled={!valid} onClick={() => onApply(from, to)}>
        Apply
      </button>
    </div>
  );
}

export function MetricsPage() {
  const [params, setParams] = useSearchParams();
  const app = params.get('app') ?? '';
  const range = rangeOf(params);
  const rangeChoice = params.get('range') ?? '30';
  const scopes = useQuery({
    queryKey: ['metrics', 'scopes'],
    queryFn: () => ok(api.GET('/api/metrics/scopes')),
    staleTime: 60_000,
  });
  const apps = scopes.data?.apps ?? [];
  const envChoices = app
    ? (apps.find((a) => a.name === app)?.environments ?? [])
    : [...new Set(apps.flatMap((a) => a.environments))];
  const env =
    params.get('env') ??
    (envChoices.includes('production') || !envChoices.length ? 'production' : envChoices[0]!);
  const query = { ...(app ? { app } : {}), env, from: range.from, to: range.to, bucket: range.bucket };
  const report = useQuery({
    queryKey: ['metrics', 'report', query],
    queryFn: () => ok(api.GET('/api/metrics', { params: { query } })),
    enabled: scopes.isSuccess,
    placeholderData: keepPreviousData,
  });
  const set = (changes: Record<string, string | null>) =>
    setParams((p) => {
      const next = new URLSearchParams(p);
      for (const [k, v] of Object.entries(changes)) {
        if (v === null || v === '') next.delete(k);
        else next.set(k, v);
      }
      return next;
    });
  const reportHref = `/api/metrics/report?${new URLSearchParams(query as Record<string, string>).toString()}`;
  const r = report.data;

  return (
    <div className="stack">
      <h1>Metrics</h1>
      <fieldset className="panel row metrics-filters">
        <legend className="visually-hidden">Which metrics</legend>
        <div className="field">
          <label htmlFor="metrics-app">App</label>
          <select
            id="metrics-app"
            value={app}
            onChange={(e) => set({ app: e.target.value, env: null })}
            disabled={!scopes.isSuccess}
          >
            <option value="">All apps</option>
            {apps.map((a) => (
              <option key={a.name} value={a.name}>
                {a.name}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="metrics-env">Environment</label>
          <select id="metrics-env" value={env} onChange={(e) => set({ env: e.target.value })}>
            {(envChoices.includes(env) ? envChoices : [env, ...envChoices]).map((e) => (
              <option key={e} value={e}>
                {e}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="metrics-range">Range</label>
          <select
            id="metrics-range"
            value={RANGES.map(String).includes(rangeChoice) || rangeChoice === 'custom' ? rangeChoice : '30'}
            onChange={(e) =>
              set({ range: e.target.value, ...(e.target.value === 'custom' ? {} : { from: null, to: null }) })
            }
          >
            {RANGES.map((d) => (
              <option key={d} value={d}>
                Last {d} days
              </option>
            ))}
            <option value="custom">Custom…</option>
          </select>
        </div>
        {rangeChoice === 'custom' ? (
          <CustomRange onApply={(from, to) => set({ range: 'custom', from, to })} />
        ) : null}
        <p className="metrics-report-link">
          <a href={reportHref} target="_blank" rel="noopener">
            HTML report of this view
          </a>
        </p>
      </fieldset>
      <ErrorNote error={scopes.error ?? report.error} />
      {scopes.isSuccess && !apps.length ? (
        <p className="notice">No apps yet: add one (`gantry apps add`) and deploy it to see its metrics.</p>
      ) : null}
      {report.isPending && scopes.isSuccess ? <Loading what="the metrics" /> : null}
      {r ? (
        <div className="stack" aria-busy={report.isFetching}>
          <p className="small muted" data-testid="metrics-window">
            {r.app} / {r.env}, from {r.from.slice(0, 10)} to {r.to.slice(0, 10)} (not included), per{' '}
            {r.bucket}. {report.isFetching ? 'Updating…' : ''}
          </p>
          <section aria-labelledby="sec-keys">
            <h2 id="sec-keys">The four keys</h2>
            <FourKeys r={r} />
          </section>
          <DeploymentsAndReleases r={r} />
          <Rework r={r} />
          <div className="metrics-pair">
            <BuildTimes r={r} />
            <RollbackTimes r={r} />
          </div>
          <p className="small muted">
            Definitions of every number: <code>{r.definitions}</code>.
          </p>
        </div>
      ) : null}
    </div>
  );
}
