import { userInfo } from 'node:os';
import type { ApprovalState, Deployment, EnvironmentState, RollbackChoice } from '@gantry/contracts';
import { finishedDeploymentStatuses } from '@gantry/contracts/deployment-statuses';
import { parseDuration } from '@gantry/contracts/duration-text';
import type { ApiClient } from '../api-client.js';
import { confirmOnTerminal } from '../confirm.js';
import { CliError, client, pickApp, qs } from '../context.js';
import { ago, duration, printJson, progress, progressDone, safeText, short, table } from '../output.js';
import { imageReferences, shortReference } from './artifacts.js';
import { verificationText } from './checks.js';

const PHASE_WORDS: Record<string, string> = {
  unpack: 'unpacking',
  start: 'starting',
  health: 'waiting until healthy',
  switch: 'switching traffic',
  drain: 'draining the old release',
  cleanup: 'cleaning up',
};

export function whoAmI(): string {
  try {
    return userInfo().username;
  } catch {
    return 'cli';
  }
}

async function confirmProtected(
  api: ApiClient,
  app: string,
  env: string,
  what: string,
  yes?: boolean,
): Promise<boolean> {
  if (yes) return true;
  const envs = await api.get<EnvironmentState[]>(`/api/apps/${encodeURIComponent(app)}/environments`);
  if (!envs.find((e) => e.env === env)?.protected) return false;
  await confirmOnTerminal(`"${env}" is protected. ${what}?`, {
    hint: `"${env}" is protected: pass --yes to ${what.charAt(0).toLowerCase()}${what.slice(1)} without a prompt`,
    declined: 'not confirmed; nothing was deployed',
  });
  return true;
}

/** The lock a queued deployment waits behind, read at most once a second. */
function lockWatcher(api: ApiClient) {
  let at = 0;
  let lock: EnvironmentState['lock'] = null;
  return async (d: Deployment): Promise<EnvironmentState['lock']> => {
    if (Date.now() - at < 1000) return lock;
    at = Date.now();
    const envs = await api
      .get<EnvironmentState[]>(`/api/apps/${encodeURIComponent(d.app)}/environments`)
      .catch(() => null);
    lock = envs ? (envs.find((e) => e.env === d.env)?.lock ?? null) : lock;
    return lock;
  };
}

const lockText = (env: string, lock: NonNullable<EnvironmentState['lock']>) =>
  `"${env}" is locked by ${lock.by}${lock.reason ? ` (${lock.reason})` : ''} since ${lock.since}; ` +
  `it runs once \`gantry unlock ${env}\` lifts the lock`;

/**
 * Follows a deployment live (queued → starting → healthy → switched) and returns how it ended.
 * While it waits behind a lock it says whose, why and since when. Past `timeoutMs` it stops
 * following (the deployment goes on on the server) and fails with what to do.
 */
export async function followDeployment(
  api: ApiClient,
  id: string,
  show: boolean,
  opts: { timeoutMs?: number } = {},
): Promise<Deployment> {
  let said = '';
  const until = opts.timeoutMs === undefined ? Infinity : Date.now() + opts.timeoutMs;
  const lockOf = lockWatcher(api);
  for (;;) {
    const d = await api.get<Deployment>(`/api/deployments/${id}`);
    const phase = d.phases.at(-1)?.name;
    const lock = d.status === 'queued' ? await lockOf(d) : null;
    const state =
      d.status === 'queued'
        ? `queued${d.position ? ` (position ${d.position})` : ''}${lock ? `: ${lockText(d.env, lock)}` : ''}`
        : d.status === 'running'
          ? (PHASE_WORDS[phase ?? ''] ?? 'starting')
          : d.status;
    if (show && state !== said) {
      progress(`${d.env} ← ${short(d.sha)}: ${state}`);
      said = state;
    }
    if (finishedDeploymentStatuses.includes(d.status)) {
      if (show) {
        progressDone();
        const took = d.startedAt && d.finishedAt ? Date.parse(d.finishedAt) - Date.parse(d.startedAt) : null;
        const phases = d.phases.map((p) => `${p.name} ${duration(p.ms)}`).join(', ');
        process.stderr.write(
          `deployment ${d.id} ${d.status}${d.kind ? ` (${d.kind})` : ''}${took !== null ? ` in ${duration(took)}` : ''}` +
            `${phases ? ` [${phases}]` : ''}\n`,
        );
        if (d.verification === 'verifying')
          process.stderr.write(`its checks are running: see them with \`gantry checks ${d.id}\`\n`);
      }
      return d;
    }
    if (Date.now() >= until) {
      if (show) progressDone();
      throw new CliError(
        `stopped following deployment ${d.id} after ${duration(opts.timeoutMs!)}: it is still ${d.status}${
          d.status === 'queued'
            ? ` and stays queued${lock ? ` (${lockText(d.env, lock)})` : ''}; a newer \`gantry deploy ${d.env}\` replaces it (queue: latest)`
            : ' and goes on on the server'
        }; see \`gantry history ${d.env}\``,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** `--timeout 10m`: milliseconds, or a usage error. */
function timeoutOption(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  try {
    return parseDuration(text);
  } catch {
    throw new CliError(`--timeout ${JSON.stringify(text)}: expected a duration such as 90s, 10m or 1h`);
  }
}

function finish(d: Deployment & { rollback?: RollbackChoice }, json?: boolean): void {
  if (json) printJson(d);
  if (d.status !== 'succeeded') throw new CliError(`deployment ${d.id} ${d.status}: ${d.error ?? ''}`.trim());
}

export async function deployCommand(
  env: string,
  ref: string,
  opts: {
    app?: string;
    tag?: boolean;
    force?: boolean;
    yes?: boolean;
    reason?: string;
    remediates?: string;
    override?: boolean;
    dryRun?: boolean;
    follow?: boolean;
    timeout?: string;
    json?: boolean;
  },
): Promise<void> {
  const timeoutMs = timeoutOption(opts.timeout);
  if (opts.override && !opts.reason?.trim())
    throw new CliError('--override needs --reason "<why>": break-glass is recorded with it');
  const api = await client();
  const app = await pickApp(api, opts.app);
  const path = `/api/apps/${encodeURIComponent(app)}/deployments`;
  const body = {
    env,
    ref,
    tag: opts.tag !== false,
    force: Boolean(opts.force),
    reason: opts.reason,
    ...(opts.remediates && { remediates: opts.remediates }),
    ...(opts.override && { override: true }),
    actor: whoAmI(),
  };
  if (opts.dryRun) {
    const plan = await api.post<{
      sha: string;
      refused: string | null;
      driver: string | null;
      plan: { kind: string; steps: string[] } | null;
    }>(path, { ...body, dryRun: true });
    if (opts.json) printJson(plan);
    else if (plan.plan) {
      process.stdout.write(
        `Plan for ${env} ← ${short(plan.sha)} (driver ${plan.driver}): ${plan.plan.kind}\n`,
      );
      for (const step of plan.plan.steps) process.stdout.write(`  - ${step}\n`);
    }
    if (plan.refused)
      throw new CliError(`a deployment of ${short(plan.sha)} to ${env} would be refused: ${plan.refused}`);
    return;
  }
  const confirm = await confirmProtected(api, app, env, `Deploy ${ref} to ${env}`, opts.yes);
  const d = await api.post<Deployment>(path, { ...body, confirm });
  if (!opts.json && d.tag && d.status !== 'rejected')
    process.stderr.write(`tagged ${safeText(d.tag)} and pushed it\n`);
  if (d.status === 'rejected') return finish(d, opts.json);
  if (d.status === 'awaiting_approval') return awaitingApproval(d, opts.json);
  if (opts.follow === false) return opts.json ? printJson(d) : void process.stdout.write(`${d.id}\n`);
  finish(await followDeployment(api, d.id, !opts.json, { timeoutMs }), opts.json);
}

/** A request to a protected environment waits for its approvers: say who and how, and return. */
function awaitingApproval(d: Deployment, json?: boolean): void {
  if (json) {
    printJson(d);
    return;
  }
  process.stdout.write(`${d.id}\n`);
  process.stderr.write(
    safeText(
      `deployment ${d.id} awaits approval before it runs in ${d.env} (${d.digest}): ` +
        `an approver runs \`gantry approve ${d.id}\`; see it with \`gantry approvals ${d.id}\`\n`,
    ),
  );
}

export async function rollbackCommand(
  env: string,
  opts: { app?: string; to?: string; yes?: boolean; reason?: string; json?: boolean },
): Promise<void> {
  const api = await client();
  const app = await pickApp(api, opts.app);
  const confirm = await confirmProtected(api, app, env, `Roll ${env} back`, opts.yes);
  const d = await api.post<Deployment & { rollback?: RollbackChoice }>(
    `/api/apps/${encodeURIComponent(app)}/environments/${env}/rollback`,
    { to: opts.to, confirm, reason: opts.reason, actor: whoAmI() },
  );
  if (d.rollback && !opts.json) {
    const c = d.rollback;
    process.stderr.write(safeText(`rolling ${env} back from ${short(c.from)} to ${short(c.to)}: ${c.why}\n`));
    for (const s of c.skipped) process.stderr.write(safeText(`  skipped ${short(s.sha)}: ${s.why}\n`));
  }
  if (d.status === 'rejected') return finish(d, opts.json);
  if (d.status === 'awaiting_approval') return awaitingApproval(d, opts.json);
  const done = await followDeployment(api, d.id, !opts.json);
  finish(d.rollback ? { ...done, rollback: d.rollback } : done, opts.json);
}

export async function statusCommand(opts: { app?: string; json?: boolean }): Promise<void> {
  const api = await client();
  const states = opts.app
    ? await api.get<EnvironmentState[]>(`/api/apps/${encodeURIComponent(opts.app)}/environments`)
    : await api.get<EnvironmentState[]>('/api/status');
  await warnWithoutSandbox(api);
  if (opts.json) return printJson(states);
  const waiting = await api
    .get<ApprovalState[]>(`/api/approvals${qs({ app: opts.app })}`)
    .catch(() => [] as ApprovalState[]);
  const waitingIn = (s: EnvironmentState) => waiting.filter((w) => w.app === s.app && w.env === s.env);
  const images = await imageReferences(
    api,
    states.filter((s) => s.current?.artifactId).map((s) => s.app),
  );
  const imageOf = (d: Deployment | null | undefined) =>
    shortReference(d?.artifactId && images.get(d.artifactId));
  table(
    states.map((s) => ({
      app: s.app,
      env: s.env,
      sha: short(s.current?.sha),
      image: imageOf(s.current),
      commit: (s.commit?.message ?? '').split('\n')[0]!.slice(0, 40),
      age: ago(s.current?.finishedAt),
      by: s.current?.actor ?? '',
      health: s.health ? (s.health.healthy ? 'healthy' : 'UNHEALTHY') : '',
      checks: verificationText(s.current),
      url: s.urls?.length ? s.urls.join(' ') : s.hosts?.length ? `${s.hosts.join(', ')} :${s.port}` : s.url,
      notes: [
        s.lock ? `locked by ${s.lock.by}${s.lock.reason ? `: ${s.lock.reason}` : ''}` : '',
        s.hold ? `hold ${short(s.hold.sha)}` : '',
        s.queue.length ? `${s.queue.length} queued` : '',
        ...waitingIn(s).map(
          (w) => `${w.deploymentId} (${short(w.sha)}) awaiting approval ${w.approved} of ${w.required}`,
        ),
        interruptedNote(s.interrupted),
        s.protected ? 'protected' : '',
      ]
        .filter(Boolean)
        .join('; '),
    })),
    [
      'app',
      'env',
      'sha',
      ...(images.size ? ['image'] : []),
      'commit',
      'age',
      'by',
      'health',
      ...(states.some((s) => s.current?.verification) ? ['checks'] : []),
      'url',
      'notes',
    ],
  );
}

/** A deployment the server's stop cut short: whether it was run again, and how that went. */
function interruptedNote(i: EnvironmentState['interrupted']): string {
  if (!i) return '';
  const what = `${short(i.deployment.sha)} interrupted`;
  if (!i.retry) return `${what}, not retried`;
  return `${what}, retried (${i.retry.id} ${i.retry.status})`;
}

/** `GET /api/server`: a server without a build sandbox is said loudly (on stderr, so --json stays clean). */
async function warnWithoutSandbox(api: ApiClient): Promise<void> {
  const server = await api
    .get<{ sandbox: { mode: string; active: boolean; reason: string } }>('/api/server')
    .catch(() => null);
  if (!server || server.sandbox.active) return;
  process.stderr.write(
    `WARNING: the server runs build steps and deploy scripts without a sandbox (${server.sandbox.mode}: ${server.sandbox.reason}); anyone who can push can read its data\n`,
  );
}

export async function historyCommand(env: string, opts: { app?: string; limit?: string; json?: boolean }) {
  const api = await client();
  const app = await pickApp(api, opts.app);
  const list = await api.get<Deployment[]>(`/api/deployments${qs({ app, env, limit: opts.limit })}`);
  if (opts.json) return printJson(list);
  const images = list.some((d) => d.artifactId)
    ? await imageReferences(api, [app])
    : new Map<string, string>();
  table(
    list.map((d) => ({
      id: d.id,
      sha: short(d.sha),
      image: shortReference(d.artifactId && images.get(d.artifactId)),
      from: short(d.previousSha),
      trigger: d.trigger,
      status:
        d.status === 'awaiting_approval' ? 'awaiting approval' : d.status + (d.kind ? ` (${d.kind})` : ''),
      checks: verificationText(d),
      by: d.actor,
      when: ago(d.requestedAt),
      took: d.startedAt && d.finishedAt ? duration(Date.parse(d.finishedAt) - Date.parse(d.startedAt)) : '',
      note: (d.error ?? d.tag ?? '').split('\n')[0] ?? '',
    })),
    [
      'id',
      'sha',
      ...(images.size ? ['image'] : []),
      'from',
      'trigger',
      'status',
      ...(list.some((d) => d.verification) ? ['checks'] : []),
      'by',
      'when',
      'took',
      'note',
    ],
  );
}

export async function lockCommand(env: string, opts: { app?: string; reason?: string; json?: boolean }) {
  const api = await client();
  const app = await pickApp(api, opts.app);
  const res = await api.post(`/api/apps/${encodeURIComponent(app)}/environments/${env}/lock`, {
    reason: opts.reason,
    actor: whoAmI(),
  });
  if (opts.json) return printJson(res);
  process.stdout.write(`${env} is locked: no deployment starts until \`gantry unlock ${env}\`\n`);
}

export async function unlockCommand(env: string, opts: { app?: string; json?: boolean }) {
  const api = await client();
  const app = await pickApp(api, opts.app);
  const res = await api.delete(`/api/apps/${encodeURIComponent(app)}/environments/${env}/lock`);
  if (opts.json) return printJson(res);
  process.stdout.write(`${env} is unlocked\n`);
}

export async function holdReleaseCommand(env: string, opts: { app?: string; json?: boolean }) {
  const api = await client();
  const app = await pickApp(api, opts.app);
  const res = await api.delete(`/api/apps/${encodeURIComponent(app)}/environments/${env}/hold`);
  if (opts.json) return printJson(res);
  process.stdout.write(`${env}: hold released; auto-deploy may bring that commit back\n`);
}

export async function recoverCommand(opts: { app?: string; json?: boolean }) {
  const api = await client();
  const app = await pickApp(api, opts.app);
  const res = await api.post<{ recovered: Deployment[]; skipped: number }>(
    `/api/apps/${encodeURIComponent(app)}/recover`,
  );
  if (opts.json) return printJson(res);
  for (const d of res.recovered)
    process.stdout.write(safeText(`recovered ${d.env} ← ${short(d.sha)} (${d.tag}) by ${d.actor}\n`));
  process.stdout.write(`${res.recovered.length} recovered from tags, ${res.skipped} already recorded\n`);
}
