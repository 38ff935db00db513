import type { GantryEvent } from '@gantry/contracts';

/** What happened to a build or a deployment, in the words the providers' states are mapped from. */
export type Outcome =
  | 'queued'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'cancelled'
  | 'refused'
  | 'superseded'
  | 'interrupted'
  | 'verifying'
  | 'verified'
  | 'check_failed';

export interface Happening {
  kind: 'build' | 'deployment';
  outcome: Outcome;
}

const HAPPENINGS: Record<string, Happening> = {
  'build.queued': { kind: 'build', outcome: 'queued' },
  'build.started': { kind: 'build', outcome: 'running' },
  'build.succeeded': { kind: 'build', outcome: 'succeeded' },
  'build.failed': { kind: 'build', outcome: 'failed' },
  'build.cancelled': { kind: 'build', outcome: 'cancelled' },
  'deployment.queued': { kind: 'deployment', outcome: 'queued' },
  'deployment.rejected': { kind: 'deployment', outcome: 'refused' },
  'deployment.started': { kind: 'deployment', outcome: 'running' },
  'deployment.succeeded': { kind: 'deployment', outcome: 'succeeded' },
  'deployment.failed': { kind: 'deployment', outcome: 'failed' },
  'deployment.superseded': { kind: 'deployment', outcome: 'superseded' },
  'deployment.interrupted': { kind: 'deployment', outcome: 'interrupted' },
  // A deployment with checks succeeds, then is checked: verified is success, check_failed failure.
  'deployment.verifying': { kind: 'deployment', outcome: 'verifying' },
  'deployment.verified': { kind: 'deployment', outcome: 'verified' },
  'deployment.check_failed': { kind: 'deployment', outcome: 'check_failed' },
};

/** The events a forge hears of; every other event is not its business. */
export function happeningOf(type: string): Happening | undefined {
  return HAPPENINGS[type];
}

/** Everything a provider's request is built from, gathered when the attempt runs. */
export interface ForgeFacts extends Happening {
  sha: string;
  /** The app's main branch (GitLab's deployments name a ref). */
  branch: string;
  env: string | null;
  deploymentId: string | null;
  /** A sentence for people, not yet cut to the provider's limit. */
  description: string;
  /** The build's or deployment's page in Gantry's console. */
  targetUrl?: string;
  /** Where the environment answers, once deployed. */
  environmentUrl?: string;
  production: boolean;
  trigger?: string;
}

/** The status context (GitHub, Gitea) or name (GitLab): `gantry/build`, `gantry/<env>`. */
export function contextOf(f: Pick<ForgeFacts, 'kind' | 'env'>): string {
  return f.kind === 'build' ? 'gantry/build' : `gantry/${f.env ?? 'deploy'}`;
}

/** Cut to a provider's limit (GitHub: 140 characters), marked with an ellipsis. */
export function cut(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const firstLine = (v: unknown): string => str(v).split('\n')[0]!.trim();
const seconds = (from: string | null | undefined, to: string | null | undefined): string | undefined => {
  if (!from || !to) return undefined;
  const ms = Date.parse(to) - Date.parse(from);
  return ms >= 0 ? `${(ms / 1000).toFixed(1)} s` : undefined;
};

/** The sentence a forge shows beside the state. */
export function describe(
  e: GantryEvent,
  h: Happening,
  timing: { startedAt: string | null; finishedAt: string | null; kind?: string | null } | undefined,
): string {
  const env = str(e.data.env);
  const took = seconds(timing?.startedAt, timing?.finishedAt);
  if (h.kind === 'build') {
    switch (h.outcome) {
      case 'queued':
        return 'Build queued';
      case 'running':
        return 'Building';
      case 'succeeded':
        return took ? `Built in ${took}` : 'Built';
      case 'cancelled':
        return 'Build cancelled';
      default:
        return `Build failed${e.data.error ? `: ${firstLine(e.data.error)}` : ''}`;
    }
  }
  switch (h.outcome) {
    case 'queued':
      return `Queued for ${env}${e.data.trigger ? ` (${str(e.data.trigger)})` : ''}`;
    case 'running':
      return `Deploying to ${env}`;
    case 'succeeded': {
      const how = [str(e.data.kind) || timing?.kind, took].filter(Boolean).join(', ');
      return `Deployed to ${env}${how ? ` (${how})` : ''}`;
    }
    case 'failed':
      return `Deployment to ${env} failed${e.data.error ? `: ${firstLine(e.data.error)}` : ''}`;
    case 'refused':
      return `Refused${e.data.reason ? `: ${firstLine(e.data.reason)}` : ''}`;
    case 'superseded':
      return `Superseded by a newer deployment to ${env}`;
    case 'interrupted':
      return 'Interrupted when Gantry stopped';
    case 'verifying': {
      const checks = Array.isArray(e.data.checks) ? e.data.checks.join(', ') : '';
      return `Checking ${env}${checks ? `: ${checks}` : ''}`;
    }
    case 'verified':
      return `Verified in ${env}`;
    default:
      return `Check ${str(e.data.check) || '?'} failed in ${env}${e.data.error ? `: ${firstLine(e.data.error)}` : ''}`;
  }
}
