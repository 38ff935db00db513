import type { Deployment } from '@gantry/contracts';

/**
 * A deployment cut short by a server stop is run again once, as a new request whose reason names it.
 * The reason is the record of the attempt: a retry that is interrupted in turn is not run again.
 */
export function retryReason(interrupted: Pick<Deployment, 'id'>): string {
  return `retry of ${interrupted.id}, interrupted when the server stopped`;
}

export function isRetry(d: Pick<Deployment, 'reason' | 'actor'>): boolean {
  return d.actor === 'deployer' && /^retry of \S+, interrupted when the server stopped$/.test(d.reason ?? '');
}

export function isRetryOf(
  d: Pick<Deployment, 'reason' | 'actor'>,
  interrupted: Pick<Deployment, 'id'>,
): boolean {
  return d.actor === 'deployer' && d.reason === retryReason(interrupted);
}
