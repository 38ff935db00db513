import { Chart, type ChartSeries } from '../../components/chart';
import { bucketAxis, type Report } from './four-keys';
import { count, duration, percent, plural } from './metrics-format';

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** The SLO as a dashed line when it is within reach of the data, else a note (as the HTML report does). */
function sloLine(sloMs: number, largest: number, length: number): { series: ChartSeries[]; note: string } {
  if (largest > 0 && sloMs > largest * 3)
    return {
      series: [],
      note: ` The SLO (${duration(sloMs)}) is far above every value, so it is not drawn.`,
    };
  return {
    series: [{ label: 'SLO', values: Array(length).fill(sloMs), color: '--bad', style: 'dashed' }],
    note: '',
  };
}

function Stat({ label, value, testId }: { label: string; value: string; testId?: string }) {
  return (
    <div className="metrics-stat">
      <dt>{label}</dt>
      <dd data-testid={testId}>{value}</dd>
    </div>
  );
}

export function DeploymentsAndReleases({ r }: { r: Report }) {
  const s = r.series;
  const rf = r.releaseFrequency;
  return (
    <section className="panel" aria-labelledby="sec-releases">
      <h2 id="sec-releases">Deployments and releases</h2>
      <p className="small">
        {r.deploymentFrequency.deployments} deployments and {rf.releases} releases ({rf.releasesApplied}{' '}
        releases applied, {rf.togglesOn} toggles switched on outside a release). A release makes a change
        available without a deployment; the two are counted apart.
      </p>
      <Chart
        name="deployments-releases"
        title={`Deployments and releases per ${r.bucket}`}
        summary={`${plural(sum(s.map((p) => p.deployments)), 'deployment')} and ${plural(sum(s.map((p) => p.releases)), 'release')} over ${plural(s.length, r.bucket)}.`}
        {...bucketAxis(r)}
        series={[
          {
            label: 'Deployments',
            values: s.map((p) => p.deployments),
            color: '--accent',
            style: 'bars',
            align: -1,
          },
          { label: 'Releases', values: s.map((p) => p.releases), color: '--ok', style: 'bars', align: 1 },
        ]}
        format={count}
        integer
      />
    </section>
  );
}

export function Rework({ r }: { r: Report }) {
  const rw = r.reworkRate;
  const s = r.series;
  return (
    <section className="panel" aria-labelledby="sec-rework">
      <h2 id="sec-rework">Rework</h2>
      <dl className="metrics-stats">
        <Stat label="Rework rate" value={percent(rw.rate)} testId="rework-rate" />
        <Stat label="Rollbacks" value={String(rw.byKind.rollback)} testId="rework-rollback" />
        <Stat label="Reverts" value={String(rw.byKind.revert)} testId="rework-revert" />
        <Stat label="Fix-forwards" value={String(rw.byKind['fix-forward'])} testId="rework-fix-forward" />
      </dl>
      <p className="small muted">
        {rw.remediating} of {rw.deployments} deployments fixed a failed one.
        {rw.rollForwards
          ? ` ${rw.rollForwards} roll-forward${rw.rollForwards === 1 ? '' : 's'} not counted: it remediates nothing.`
          : ''}
      </p>
      <Chart
        name="rework"
        title={`Rollbacks and failed deployments per ${r.bucket}`}
        summary={`${plural(sum(s.map((p) => p.rollbacks)), 'rollback')} and ${plural(sum(s.map((p) => p.failed)), 'failed deployment')} over ${plural(s.length, r.bucket)}.`}
        {...bucketAxis(r)}
        series={[
          {
            label: 'Rollbacks',
            values: s.map((p) => p.rollbacks),
            color: '--warn',
            style: 'bars',
            align: -1,
          },
          {
            label: 'Failed deployments',
            values: s.map((p) => p.failed),
            color: '--bad',
            style: 'bars',
            align: 1,
          },
        ]}
        format={count}
        integer
      />
    </section>
  );
}

export function BuildTimes({ r }: { r: Report }) {
  const b = r.buildTime;
  const s = r.series;
  const largest = Math.max(0, ...s.flatMap((p) => [p.buildP50Ms ?? 0, p.buildP95Ms ?? 0]));
  const slo = sloLine(b.sloMs, largest, s.length);
  return (
    <section className="panel" aria-labelledby="sec-builds">
      <h2 id="sec-builds">Build time against its SLO</h2>
      <dl className="metrics-stats">
        <Stat label="Builds" value={String(b.n)} />
        <Stat label="Median" value={duration(b.median)} testId="build-median" />
        <Stat label="p95" value={duration(b.p95)} testId="build-p95" />
        <Stat label="Within SLO" value={`${percent(b.withinSloShare)} (SLO ${duration(b.sloMs)})`} />
      </dl>
      <Chart
        name="build-time"
        title={`Build time per ${r.bucket}`}
        summary={`${b.n} builds: median ${duration(b.median)}, p95 ${duration(b.p95)}, ${b.withinSlo} within the SLO of ${duration(b.sloMs)}.${slo.note}`}
        {...bucketAxis(r)}
        series={[
          { label: 'Median', values: s.map((p) => p.buildP50Ms), color: '--info' },
          { label: 'p95', values: s.map((p) => p.buildP95Ms), color: '--warn' },
          ...slo.series,
        ]}
        format={duration}
      />
    </section>
  );
}

export function RollbackTimes({ r }: { r: Report }) {
  const rb = r.rollbackTime;
  const points = [...rb.points].sort((a, b) => a.requestedAt.localeCompare(b.requestedAt));
  const largest = Math.max(0, ...points.map((p) => p.durationMs ?? 0));
  const slo = sloLine(rb.sloMs, largest, points.length);
  return (
    <section className="panel" aria-labelledby="sec-rollbacks">
      <h2 id="sec-rollbacks">Rollback time against its SLO</h2>
      <dl className="metrics-stats">
        <Stat label="Rollbacks" value={`${rb.n + rb.failed}${rb.failed ? ` (${rb.failed} failed)` : ''}`} />
        <Stat label="Median" value={duration(rb.median)} testId="rollback-median" />
        <Stat label="p95" value={duration(rb.p95)} />
        <Stat label="Within SLO" value={`${percent(rb.withinSloShare)} (SLO ${duration(rb.sloMs)})`} />
      </dl>
      {points.length ? (
        <Chart
          name="rollback-time"
          title="Time of each rollback"
          summary={`${points.length} rollbacks: median ${duration(rb.median)}, longest ${duration(rb.max)}, ${rb.withinSlo} within the SLO of ${duration(rb.sloMs)}.${slo.note}`}
          x={points.map((p) => Date.parse(p.requestedAt))}
          xName={(ms) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ')}
          xLabel="Requested (UTC)"
          series={[
            {
              label: 'Rollback time',
              values: points.map((p) => p.durationMs),
              color: '--accent',
              style: 'points',
            },
            ...slo.series,
          ]}
          format={duration}
        />
      ) : (
        <p className="muted">No rollbacks in this window.</p>
      )}
    </section>
  );
}
