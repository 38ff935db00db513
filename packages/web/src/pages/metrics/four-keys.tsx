import type { ResponseOf } from '../../api/types';
import { Chart, type ChartSeries } from '../../components/chart';
import { Badge } from '../../components/ui';
import {
  type Bucket,
  bandLabel,
  bandTone,
  bucketName,
  count,
  daysPerWeek,
  duration,
  percent,
  plural,
  rate,
} from './metrics-format';

export type Report = ResponseOf<'/api/metrics'>;
type TrendKey = keyof Report['trend'];

/** Chart props every chart of a report shares: one x per bucket. */
export function bucketAxis(r: Report) {
  const bucket = r.bucket as Bucket;
  return {
    x: r.series.map((s) => Date.parse(s.start)),
    xName: (ms: number) => bucketName(new Date(ms).toISOString(), bucket),
    xLabel: bucket === 'day' ? 'Day' : bucket === 'week' ? 'Week' : 'Month',
  };
}

function TrendNote({ r, k, format }: { r: Report; k: TrendKey; format: (v: number | null) => string }) {
  const t = r.trend[k];
  if (t.previous === null) return <p className="small muted">No data in the previous window to compare.</p>;
  const word =
    t.direction === 'better'
      ? 'Better than'
      : t.direction === 'worse'
        ? 'Worse than'
        : t.direction === 'same'
          ? 'Same as'
          : 'Compared with';
  return (
    <p className="small muted" data-testid={`trend-${k}`}>
      {word} the previous window ({format(t.previous)}).
    </p>
  );
}

interface KeyCardProps {
  testId: string;
  title: string;
  value: string;
  detail: string;
  band: Report['bands']['deploymentFrequency'];
  trend: React.ReactNode;
  chart: { summary: string; series: ChartSeries[]; format: (v: number) => string; integer?: boolean };
  r: Report;
}

function KeyCard(p: KeyCardProps) {
  return (
    <section
      className="panel metrics-key"
      aria-labelledby={`key-${p.testId}`}
      data-testid={`key-${p.testId}`}
    >
      <h3 id={`key-${p.testId}`}>{p.title}</h3>
      <p className="metrics-value">
        <strong data-testid="key-value">{p.value}</strong>{' '}
        <Badge tone={bandTone(p.band)} title="DORA band (docs/metrics.md)">
          <span data-testid="key-band">{bandLabel(p.band)}</span>
        </Badge>
      </p>
      <p className="small">{p.detail}</p>
      {p.trend}
      <Chart
        name={p.testId}
        title={`${p.title} per ${p.r.bucket}`}
        summary={p.chart.summary}
        {...bucketAxis(p.r)}
        series={p.chart.series}
        format={p.chart.format}
        integer={p.chart.integer}
        height={160}
      />
    </section>
  );
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** The four keys of DORA, each with its band, its trend against the previous window and a chart. */
export function FourKeys({ r }: { r: Report }) {
  const df = r.deploymentFrequency;
  const lead = r.leadTime;
  const cfr = r.changeFailureRate;
  const rec = r.recoveryTime;
  const ttr = r.timeToRestore;
  const s = r.series;
  const worst = (vals: (number | null)[], f: (v: number) => string) => {
    const known = vals.filter((v): v is number => v !== null);
    return known.length ? f(Math.max(...known)) : '—';
  };
  return (
    <div className="metrics-keys">
      <KeyCard
        r={r}
        testId="deployment-frequency"
        title="Deployment frequency"
        value={daysPerWeek(r.bands.values.deploymentDaysPerWeek)}
        detail={`${plural(df.deployments, 'deployment')} (${rate(df.perDay)}), ${df.rollbacks} of them rollbacks; ${plural(df.deploymentDays.days, 'deployment day')}.`}
        band={r.bands.deploymentFrequency}
        trend={<TrendNote r={r} k="deploymentDaysPerWeek" format={daysPerWeek} />}
        chart={{
          summary: `${plural(df.deployments, 'deployment')} in ${plural(s.length, r.bucket)}, at most ${Math.max(0, ...s.map((p) => p.deployments))} in one; ${plural(sum(s.map((p) => p.rollbacks)), 'rollback')}.`,
          series: [
            {
              label: 'Deployments',
              values: s.map((p) => p.deployments),
              color: '--accent',
              style: 'bars',
              align: -1,
            },
            {
              label: 'Rollbacks',
              values: s.map((p) => p.rollbacks),
              color: '--warn',
              style: 'bars',
              align: 1,
            },
          ],
          format: count,
          integer: true,
        }}
      />
      <KeyCard
        r={r}
        testId="lead-time"
        title="Lead time for changes"
        value={duration(lead.median)}
        detail={`Median of ${plural(lead.n, 'commit')}; p90 ${duration(lead.p90)}.`}
        band={r.bands.leadTime}
        trend={<TrendNote r={r} k="leadTimeMedianMs" format={duration} />}
        chart={{
          summary: `Median lead time per ${r.bucket}, ${duration(lead.median)} over the window; the longest ${r.bucket}: ${worst(
            s.map((p) => p.leadTimeMedianMs),
            duration,
          )}.`,
          series: [{ label: 'Median lead time', values: s.map((p) => p.leadTimeMedianMs), color: '--info' }],
          format: duration,
        }}
      />
      <KeyCard
        r={r}
        testId="change-failure-rate"
        title="Change failure rate"
        value={percent(cfr.rate)}
        detail={`${cfr.failed} of ${cfr.deployments} deployments failed.`}
        band={r.bands.changeFailureRate}
        trend={<TrendNote r={r} k="changeFailureRate" format={percent} />}
        chart={{
          summary: `Change failure rate per ${r.bucket}, ${percent(cfr.rate)} over the window; the worst ${r.bucket}: ${worst(
            s.map((p) => p.changeFailureRate),
            percent,
          )}.`,
          series: [
            { label: 'Change failure rate', values: s.map((p) => p.changeFailureRate), color: '--bad' },
          ],
          format: percent,
        }}
      />
      <KeyCard
        r={r}
        testId="time-to-restore"
        title="Time to restore"
        value={duration(rec.median)}
        detail={`Failed deployment recovery, median of ${rec.n}${rec.open.length ? `; ${rec.open.length} not recovered yet` : ''}. Incidents: ${duration(ttr.median)} median over ${ttr.n}${ttr.open.length ? `, ${ttr.open.length} open` : ''}.`}
        band={r.bands.recoveryTime}
        trend={<TrendNote r={r} k="recoveryMedianMs" format={duration} />}
        chart={{
          summary: `Median recovery time per ${r.bucket}, ${duration(rec.median)} over the window; the longest ${r.bucket}: ${worst(
            s.map((p) => p.recoveryMedianMs),
            duration,
          )}.`,
          series: [
            { label: 'Median recovery time', values: s.map((p) => p.recoveryMedianMs), color: '--ok' },
          ],
          format: duration,
        }}
      />
    </div>
  );
}
