import type { Artifact, Build } from '@gantry/contracts';
import { errorSummary, finishedBuildStatuses } from '@gantry/contracts';
import type { ApiClient } from '../api-client.js';
import { CliError, client, pickApp, qs } from '../context.js';
import {
  ago,
  between,
  duration,
  logColours,
  printJson,
  progress,
  progressDone,
  safeText,
  short,
  TerminalFilter,
  table,
} from '../output.js';

type RequestResult =
  | { kind: 'queued' | 'in-progress'; build: Build }
  | { kind: 'artifact-exists'; artifact: Artifact };

export async function buildCommand(
  ref: string,
  opts: { app?: string; rebuild?: boolean; follow?: boolean; json?: boolean },
): Promise<void> {
  const api = await client();
  const app = await pickApp(api, opts.app);
  const res = await api.post<RequestResult>('/api/builds', { app, ref, rebuild: Boolean(opts.rebuild) });
  if (res.kind === 'artifact-exists') {
    if (opts.json) return printJson(res);
    process.stdout.write(
      `${short(res.artifact.sha)} already has ${res.artifact.kind === 'image' ? `an image, ${res.artifact.reference}` : `artifact ${res.artifact.digest}`} (built once, never again); ` +
        'pass --rebuild to make a new one\n',
    );
    return;
  }
  if (res.kind === 'in-progress' && !opts.json)
    process.stderr.write(`build ${res.build.id} is already ${res.build.status}\n`);
  if (opts.follow === false)
    return opts.json ? printJson(res) : void process.stdout.write(`${res.build.id}\n`);
  const done = await followBuild(api, res.build.id, !opts.json);
  if (opts.json) printJson(done);
  if (done.status !== 'succeeded')
    throw new CliError(`build ${done.id} ${done.status}: ${done.error ?? ''}`.trim());
}

/** Shows the running step and its elapsed time until the build finishes. */
export async function followBuild(api: ApiClient, id: string, show: boolean): Promise<Build> {
  for (;;) {
    const b = await api.get<Build>(`/api/builds/${id}`);
    if (finishedBuildStatuses.includes(b.status)) {
      if (show) {
        progressDone();
        const took = duration(between(b.startedAt, b.finishedAt));
        process.stderr.write(
          `build ${b.id} ${b.status} in ${took}${b.sloBreached ? ' (over its SLO)' : ''}\n`,
        );
        if (b.artifactId) {
          const a = await api.get<Artifact>(`/api/artifacts/${b.artifactId}`);
          process.stdout.write(
            `artifact ${a.id} ${a.digest} (${a.size} bytes) for ${short(a.sha)}${a.kind === 'image' ? `: image ${a.reference}` : ''}\n`,
          );
        }
      }
      return b;
    }
    if (show) {
      const steps = b.steps ?? [];
      const cur = steps.find((s) => s.status === 'running');
      const where = cur
        ? `step ${cur.idx + 1}/${steps.length} ${cur.name} ${duration(between(cur.startedAt, null))}`
        : b.status;
      progress(
        `build ${b.id} ${short(b.sha)}: ${where} (total ${duration(between(b.startedAt ?? b.queuedAt, null))})`,
      );
    }
    await new Promise((r) => setTimeout(r, 300));
  }
}

export async function buildsCommand(opts: { app?: string; status?: string; limit?: string; json?: boolean }) {
  const api = await client();
  const builds = await api.get<Build[]>(
    `/api/builds${qs({ app: opts.app, status: opts.status, limit: opts.limit })}`,
  );
  if (opts.json) return printJson(builds);
  table(
    builds.map((b) => ({
      id: b.id,
      app: b.app,
      sha: short(b.sha),
      status: b.status + (b.sloBreached ? ' (slo!)' : ''),
      reason: b.reason,
      queued: ago(b.queuedAt),
      took: duration(between(b.startedAt, b.finishedAt)),
      error: errorSummary(b.error),
    })),
    ['id', 'app', 'sha', 'status', 'reason', 'queued', 'took', 'error'],
  );
}

export async function cancelCommand(id: string, opts: { json?: boolean }) {
  const b = await (await client()).post<Build>(`/api/builds/${id}/cancel`);
  if (opts.json) return printJson(b);
  process.stdout.write(`build ${b.id}: ${b.status === 'running' ? 'cancelling' : b.status}\n`);
}

/**
 * A build's step logs. A build that failed before any step ran (its gantry.yaml, its checkout) has
 * none: its error is printed instead. With `-f`, a build that did not succeed ends the command with
 * its error and a non-zero exit, so scripts and CI can follow a build.
 */
export async function logsCommand(id: string, opts: { follow?: boolean; step?: string }) {
  const api = await client();
  const last = await printLogs(api, id, opts);
  const b = await api.get<Build>(`/api/builds/${id}`);
  if (b.status === 'succeeded' || !finishedBuildStatuses.includes(b.status)) return;
  const stepsRan = (b.steps ?? []).some((s) => s.status !== 'pending' && s.status !== 'skipped');
  if (!stepsRan && b.error) {
    if (last && last !== '\n') process.stdout.write('\n');
    process.stdout.write(`${safeText(`build ${b.id} ${b.status} before any step ran:\n${b.error}`)}\n`);
  }
  if (opts.follow)
    throw new CliError(`build ${b.id} ${b.status}: ${errorSummary(b.error)}`.replace(/: $/, ''));
  if (stepsRan) process.stderr.write(`${safeText(`build ${b.id} ${b.status}: ${errorSummary(b.error)}`)}\n`);
}

/** Streams the step logs to stdout; returns the last character printed ('' for none). */
async function printLogs(api: ApiClient, id: string, opts: { follow?: boolean; step?: string }) {
  const body = await api.stream(
    `/api/builds/${id}/logs${qs({ follow: opts.follow ? 'true' : undefined, step: opts.step })}`,
  );
  // Build output is the repository's: colours only on a terminal, other sequences never.
  const filter = new TerminalFilter(logColours());
  const decoder = new TextDecoder();
  let last = '';
  const write = (text: string) => {
    if (text) last = text.at(-1)!;
    process.stdout.write(text);
  };
  for await (const chunk of body) write(filter.push(decoder.decode(chunk, { stream: true })));
  write(filter.push(decoder.decode()) + filter.end());
  return last;
}
