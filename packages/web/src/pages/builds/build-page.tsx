import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { Link, useLocation, useParams } from 'wouter';
import { api, ok } from '../../api/client';
import { useSession } from '../../api/session';
import type { ResponseOf } from '../../api/types';
import {
  Badge,
  Dialog,
  ErrorNote,
  formatMs,
  Loading,
  RelativeTime,
  ShortSha,
  StatusBadge,
} from '../../components/ui';
import { BuildLog } from './build-log';
import { useArtifact, useBuild, useCommits } from './queries';
import './builds.css';

type Build = ResponseOf<'/api/builds/{id}'>;
type Step = NonNullable<Build['steps']>[number];
type BuildAnswer = ResponseOf<'/api/builds', 'post', 201>;

const enc = encodeURIComponent;
const LIVE = ['queued', 'running'];

export function formatBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} B`;
}

function between(from: string | null, to: string | null, now: number): number | null {
  if (!from) return null;
  return (to ? Date.parse(to) : now) - Date.parse(from);
}

/** Re-renders every second while `on`, so running durations count up. */
function useNow(on: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!on) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [on]);
  return now;
}

/** Scrolls the log to a step's `==> name` header (scrolling up pauses following). */
function showStepLog(name: string): void {
  const line = document.querySelector(`.build-log [data-step="${CSS.escape(name)}"]`);
  if (!(line instanceof HTMLElement)) return;
  line.scrollIntoView({ block: 'start' });
}

function Steps({ steps, now }: { steps: Step[]; now: number }) {
  if (steps.length === 0) return <p className="muted">No step has started yet.</p>;
  return (
    <div className="table-wrap">
      <table className="steps-table">
        <caption className="visually-hidden">Steps of this build</caption>
        <thead>
          <tr>
            <th scope="col">Step</th>
            <th scope="col">Status</th>
            <th scope="col">Took</th>
          </tr>
        </thead>
        <tbody>
          {steps.map((s) => (
            <tr key={s.idx} data-step={s.name}>
              <th scope="row">
                {s.status === 'pending' || s.status === 'skipped' ? (
                  s.name
                ) : (
                  <button type="button" className="link-button" onClick={() => showStepLog(s.name)}>
                    {s.name}
                    <span className="visually-hidden"> (show its log)</span>
                  </button>
                )}
                <div>
                  <code className="small step-run">{s.run}</code>
                </div>
              </th>
              <td>
                <StatusBadge status={s.status} />
                {s.exitCode !== null && s.exitCode !== 0 ? (
                  <span className="small muted"> exit {s.exitCode}</span>
                ) : null}
              </td>
              <td>
                {s.durationMs !== null
                  ? formatMs(s.durationMs)
                  : s.status === 'running'
                    ? `${formatMs(between(s.startedAt, null, now))} so far`
                    : '—'}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function ArtifactPanel({ id }: { id: string | null }) {
  const artifact = useArtifact(id);
  if (!id) return <p className="muted">No artifact: only a build that succeeds makes one.</p>;
  if (artifact.isPending) return <Loading what="the artifact" />;
  if (artifact.error) return <ErrorNote error={artifact.error} />;
  const a = artifact.data;
  return (
    <dl className="facts">
      <dt>Kind</dt>
      <dd>{a.kind === 'image' ? 'OCI image' : 'tarball'}</dd>
      <dt>Digest</dt>
      <dd>
        <code className="break">{a.digest}</code>
      </dd>
      <dt>Size</dt>
      <dd>{formatBytes(a.size)}</dd>
      {a.reference ? (
        <>
          <dt>Reference</dt>
          <dd>
            <code className="break">{a.reference}</code>
          </dd>
        </>
      ) : null}
      <dt>Made</dt>
      <dd>
        <RelativeTime iso={a.createdAt} />
        {a.prunedAt ? <Badge tone="warn">pruned</Badge> : null}
        {!a.current ? <Badge tone="neutral">replaced by a rebuild</Badge> : null}
      </dd>
    </dl>
  );
}

function Actions({ build }: { build: Build }) {
  const { can } = useSession();
  const qc = useQueryClient();
  const [, navigate] = useLocation();
  const [confirmCancel, setConfirmCancel] = useState(false);
  const [answer, setAnswer] = useState<BuildAnswer | null>(null);
  const cancel = useMutation({
    mutationFn: () => ok(api.POST('/api/builds/{id}/cancel', { params: { path: { id: build.id } } })),
    onSuccess: (b) => {
      setConfirmCancel(false);
      qc.setQueryData(['build', build.id], b);
      void qc.invalidateQueries({ queryKey: ['builds'] });
    },
  });
  const rebuild = useMutation({
    mutationFn: (force: boolean) =>
      ok(api.POST('/api/builds', { body: { app: build.app, ref: build.sha, rebuild: force } })),
    onSuccess: (res) => {
      setAnswer(res);
      if (res.kind !== 'artifact-exists' && res.build.id !== build.id) {
        navigate(`/apps/${enc(build.app)}/builds/${enc(res.build.id)}`);
      }
    },
  });
  if (!can('builds:write')) {
    return (
      <p className="small muted">
        You may read this build; cancelling or rebuilding needs the builds:write permission.
      </p>
    );
  }
  const live = LIVE.includes(build.status);
  return (
    <div className="stack">
      <div className="row">
        {live ? (
          <button type="button" className="danger" onClick={() => setConfirmCancel(true)}>
            Cancel build
          </button>
        ) : null}
        <button type="button" onClick={() => rebuild.mutate(false)} disabled={rebuild.isPending}>
          {rebuild.isPending ? 'Asking…' : 'Rebuild'}
        </button>
      </div>
      <ErrorNote error={rebuild.error} />
      {answer?.kind === 'artifact-exists' ? (
        <div className="notice" role="status">
          <p style={{ margin: 0 }}>
            Commit <ShortSha sha={answer.artifact.sha} /> already has{' '}
            {answer.artifact.kind === 'image' ? 'an image' : 'an artifact'},{' '}
            <code className="break">{answer.artifact.digest}</code>. Gantry builds a commit once and deploys
            that same artifact everywhere; a new build makes a new artifact that replaces it.
          </p>
          <div className="row" style={{ marginTop: '0.5rem' }}>
            <button type="button" onClick={() => rebuild.mutate(true)} disabled={rebuild.isPending}>
              Build a new artifact anyway
            </button>
            <button type="button" onClick={() => setAnswer(null)}>
              Keep the artifact
            </button>
          </div>
        </div>
      ) : answer?.kind === 'in-progress' && answer.build.id === build.id ? (
        <p className="notice" role="status">
          This build is already {answer.build.status}.
        </p>
      ) : null}
      <Dialog open={confirmCancel} onClose={() => setConfirmCancel(false)} title="Cancel this build?">
        <p>
          The running step is stopped and no artifact is made for <ShortSha sha={build.sha} />. You can build
          it again later.
        </p>
        <ErrorNote error={cancel.error} />
        <div className="actions">
          <button type="button" onClick={() => setConfirmCancel(false)}>
            Keep it running
          </button>
          <button
            type="button"
            className="danger"
            onClick={() => cancel.mutate()}
            disabled={cancel.isPending}
          >
            {cancel.isPending ? 'Cancelling…' : 'Cancel the build'}
          </button>
        </div>
      </Dialog>
    </div>
  );
}

/** `/apps/:app/builds/:id`: a build's steps, artifact, live log, cancel and rebuild. */
export function BuildPage() {
  const { app = '', id = '' } = useParams<{ app: string; id: string }>();
  const build = useBuild(id);
  const commits = useCommits(app, 200);
  const live = build.data ? LIVE.includes(build.data.status) : false;
  const now = useNow(live);
  if (build.isPending) return <Loading what="the build" />;
  if (build.error) return <ErrorNote error={build.error} />;
  const b = build.data;
  const commit = commits.data?.find((c) => c.sha === b.sha);
  const took = between(b.startedAt, b.finishedAt, now);
  return (
    <div className="stack build-page">
      <p className="small">
        <Link href={`/apps/${enc(b.app)}/commits`}>← Commits of {b.app}</Link>
      </p>
      <h1>
        Build of <ShortSha sha={b.sha} /> <StatusBadge status={b.status} />
      </h1>
      <section className="panel" aria-label="About this build">
        {commit ? <p className="build-subject">{commit.message.split('\n')[0]}</p> : null}
        <dl className="facts">
          <dt>App</dt>
          <dd>{b.app}</dd>
          <dt>Commit</dt>
          <dd>
            <code className="break">{b.sha}</code>
            {commit ? <span className="muted small"> by {commit.authorName}</span> : null}
          </dd>
          <dt>Why</dt>
          <dd>
            {b.reason}, by {b.requestedBy}
            {b.attempt > 1 ? ` (attempt ${b.attempt})` : ''}
          </dd>
          <dt>Queued</dt>
          <dd>
            <RelativeTime iso={b.queuedAt} />
          </dd>
          <dt>Took</dt>
          <dd>
            {took === null ? 'not started' : `${formatMs(took)}${b.finishedAt ? '' : ' so far'}`}
            <span className="muted small"> (SLO {formatMs(b.sloMs)})</span>{' '}
            {b.sloBreached ? <Badge tone="warn">over its SLO</Badge> : null}
          </dd>
          <dt>Build id</dt>
          <dd>
            <code>{b.id}</code>
          </dd>
        </dl>
        {b.error ? <p className="alert">{b.error}</p> : null}
        <Actions build={b} />
      </section>
      <section className="panel" aria-labelledby="steps-heading">
        <h2 id="steps-heading">Steps</h2>
        <Steps steps={b.steps ?? []} now={now} />
      </section>
      <section className="panel" aria-labelledby="artifact-heading">
        <h2 id="artifact-heading">Artifact</h2>
        <ArtifactPanel id={b.artifactId} />
      </section>
      <div className="panel">
        <BuildLog key={b.id} buildId={b.id} running={live} />
      </div>
    </div>
  );
}
