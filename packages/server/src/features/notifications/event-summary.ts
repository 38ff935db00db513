import { type GantryEvent, humanDuration } from '@gantry/contracts';

/** What a sentence about an event may draw on besides the event itself. */
export interface SummaryContext {
  /** The app's name (null for events of no app). */
  app: string | null;
  /** The deployment an event of a deployment is about, for how long it took. */
  deployment?: { startedAt: string | null; finishedAt: string | null; kind: string | null } | null;
  /** The build an event of a build is about. */
  build?: { sha: string; startedAt: string | null; finishedAt: string | null } | null;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const short = (sha: unknown): string => str(sha)?.slice(0, 7) ?? '?';
/** The first line of a message, kept short: errors can be whole logs. */
const firstLine = (v: unknown, max = 200): string => {
  const line = (str(v) ?? '').split('\n')[0]!.trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
};
/** Under a minute in seconds with one decimal ("0.4 s", as deployments are), longer as people say it. */
const took = (from: string | null | undefined, to: string | null | undefined): string | undefined => {
  if (!from || !to) return undefined;
  const ms = Date.parse(to) - Date.parse(from);
  return ms >= 0 && ms < 59_950 ? `${(ms / 1000).toFixed(1)} s` : humanDuration(ms);
};
const paren = (...parts: (string | undefined | null)[]): string => {
  const kept = parts.filter((p): p is string => Boolean(p));
  return kept.length ? ` (${kept.join(', ')})` : '';
};

type Sentence = (e: GantryEvent, c: SummaryContext) => string;

const build =
  (what: string, extra?: Sentence): Sentence =>
  (e, c) =>
    `build of ${short(e.data.sha ?? c.build?.sha)} ${what}${extra ? extra(e, c) : ''}`;
const deployment =
  (what: string, extra?: Sentence): Sentence =>
  (e, c) =>
    `deployment of ${short(e.data.sha)} to ${str(e.data.env) ?? '?'} ${what}${extra ? extra(e, c) : ''}`;
const reason =
  (key: string): Sentence =>
  (e) =>
    str(e.data[key]) ? `: ${firstLine(e.data[key])}` : '';

const SENTENCES: Record<string, Sentence> = {
  'app.added': (e) => `app added${paren(str(e.data.repoUrl))}`,
  'app.removed': (e) => `app ${str(e.data.name) ?? ''} removed${e.data.purged ? ' with its history' : ''}`,
  'push.received': (e) => `push to ${str(e.data.ref) ?? 'the main branch'}${paren(str(e.data.source))}`,
  'build.queued': build('queued', (e) => paren(str(e.data.reason))),
  'build.started': build('started'),
  'build.succeeded': build('succeeded', (_e, c) => paren(took(c.build?.startedAt, c.build?.finishedAt))),
  'build.failed': build('failed', reason('error')),
  'build.cancelled': build('was cancelled'),
  'build.interrupted': build('was interrupted (its runner stopped)'),
  'build.superseded': build('was superseded by a newer commit'),
  'build.slo_breached': build('is taking longer than its SLO'),
  'deployment.queued': deployment('queued', (e) => paren(str(e.data.trigger))),
  'deployment.started': deployment('started'),
  'deployment.succeeded': deployment('succeeded', (e, c) =>
    paren(str(e.data.kind) ?? c.deployment?.kind, took(c.deployment?.startedAt, c.deployment?.finishedAt)),
  ),
  'deployment.failed': deployment('failed', reason('error')),
  'deployment.rejected': deployment('was refused', reason('reason')),
  'deployment.superseded': deployment('was superseded by a newer one'),
  'deployment.interrupted': deployment('was interrupted when the server stopped'),
  'deployment.verifying': deployment('is being checked', (e) =>
    Array.isArray(e.data.checks) && e.data.checks.length ? `: ${e.data.checks.join(', ')}` : '',
  ),
  'deployment.verified': deployment('passed its checks'),
  'approval.requested': deployment('waits for approval', (e) => {
    const from = Array.isArray(e.data.from) && e.data.from.length ? ` from ${e.data.from.join(', ')}` : '';
    return ` (${String(e.data.required ?? '?')} needed${from})`;
  }),
  'approval.approved': deployment(
    'approved',
    (e) =>
      ` by ${e.actor} (${String(e.data.approved ?? '?')} of ${String(e.data.required ?? '?')})${reason('comment')(e, { app: null })}`,
  ),
  'approval.rejected': deployment('rejected', (e) => ` by ${e.actor}${reason('comment')(e, { app: null })}`),
  'deployment.approved': deployment('has its approvals'),
  'deployment.break_glass': deployment(
    'overrode its safeguards',
    (e) => ` (${e.actor}${reason('reason')(e, { app: null })})`,
  ),
  'deployment.check_failed': deployment(
    'failed check',
    (e) =>
      ` ${str(e.data.check) ?? '?'}${str(e.data.error) ? `: ${firstLine(e.data.error)}` : ''}${str(e.data.action) ? ` (${e.data.action})` : ''}`,
  ),
  'revert.pushed': (e) =>
    `reverted ${short(e.data.blamed)} on ${str(e.data.branch) ?? 'main'} (revert ${short(e.data.revertSha)}, check ${str(e.data.check) ?? '?'})`,
  'revert.proposed': (e) =>
    `proposed a revert of ${short(e.data.blamed)} on branch ${str(e.data.branch) ?? '?'}${reason('why')(e, { app: null })}`,
  'revert.skipped': (e) => `did not revert ${short(e.data.blamed)}${reason('why')(e, { app: null })}`,
  'environment.locked': (e) => `${e.subject} locked by ${e.actor}${reason('reason')(e, { app: null })}`,
  'environment.unlocked': (e) => `${e.subject} unlocked by ${e.actor}`,
  'environment.held': (e) => `${e.subject} holds ${short(e.data.sha)}${reason('reason')(e, { app: null })}`,
  'environment.hold_released': (e) => `${e.subject} no longer holds ${short(e.data.sha)}`,
  'environment.app_crashed': (e) => `the app in ${e.subject} crashed`,
  'environment.app_gave_up': (e) => `the app in ${e.subject} keeps crashing; no longer restarted`,
  'environment.host_restored': (e) =>
    `${e.subject} serves ${short(e.data.sha)} again on host ${str(e.data.host) ?? '?'}, taken over by a new agent`,
  'environment.host_restore_failed': (e) =>
    `${e.subject} could not be restored on host ${str(e.data.host) ?? '?'}${reason('error')(e, { app: null })}`,
  'release.applied': (e) => `release ${e.subject} applied by ${e.actor}`,
  'release.reverted': (e) => `release ${e.subject} reverted by ${e.actor}`,
  'release.failed': (e) => `release ${e.subject} could not be applied${reason('error')(e, { app: null })}`,
  'incident.opened': (e) => {
    const i = (e.data.incident ?? {}) as Record<string, unknown>;
    return `incident opened in ${str(i.env) ?? '?'}: ${firstLine(i.title)}`;
  },
  'incident.resolved': (e) => {
    const i = (e.data.incident ?? {}) as Record<string, unknown>;
    return `incident resolved in ${str(i.env) ?? '?'}: ${firstLine(i.title)}${paren(took(str(i.openedAt), str(i.resolvedAt)))}`;
  },
};

/**
 * One short sentence about an event for people (Slack, forge descriptions), starting with the app.
 *
 * @example
 * summarize(deploymentSucceeded, { app: 'shop', deployment }); // 'shop: deployment of abc1234 to production succeeded (switch, 0.4 s)'
 */
export function summarize(e: GantryEvent, c: SummaryContext): string {
  const sentence = SENTENCES[e.type];
  const text = sentence ? sentence(e, c) : `${e.type}${e.subject ? ` ${e.subject}` : ''} by ${e.actor}`;
  return c.app ? `${c.app}: ${text}` : text;
}

/** Whether the sentence reports something gone wrong (for an icon or a colour). */
export function isBad(type: string): boolean {
  return (
    /\.(failed|rejected|check_failed|interrupted|app_crashed|app_gave_up|slo_breached)$/.test(type) ||
    type === 'incident.opened'
  );
}
