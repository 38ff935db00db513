import type { Deployment, RollbackChoice } from '@gantry/contracts';
import { isRollbackTrigger } from '@gantry/contracts';

type Verdict = { ok: true } | { ok: false; why: string };

const short = (sha: string) => sha.slice(0, 12);

/** Newest first by when it ended (what `lastSucceeded` orders by), then by id. */
function byFinish(a: Deployment, b: Deployment): number {
  const at = (d: Deployment) => d.finishedAt ?? d.requestedAt;
  return at(b).localeCompare(at(a)) || b.id.localeCompare(a.id);
}

/**
 * What each release of an environment last proved: the newest of "it deployed healthy", "its
 * deployment failed" and "it was rolled back from" decides.
 */
function verdicts(history: Deployment[]): Map<string, Verdict> {
  const out = new Map<string, Verdict>();
  for (const d of history) {
    if (d.status === 'succeeded') {
      if (isRollbackTrigger(d.trigger) && d.previousSha && !out.has(d.previousSha))
        out.set(d.previousSha, { ok: false, why: `was rolled back from by ${d.id}` });
      if (d.verification === 'check_failed' && !out.has(d.sha))
        out.set(d.sha, { ok: false, why: `failed its checks in ${d.id}` });
      if (!out.has(d.sha)) out.set(d.sha, { ok: true });
    } else if (d.status === 'failed' && !out.has(d.sha)) {
      out.set(d.sha, { ok: false, why: `failed in its last deployment ${d.id}` });
    }
  }
  return out;
}

/**
 * Where a rollback of an environment that serves `current` goes: the newest release it ran healthy
 * before, skipping releases that were rolled back from, failed since, or are held. So a second
 * rollback steps further back instead of bringing back what the first one rolled back from. With
 * `toSha` (the user named it) the choice is theirs; what the history says of it is still told.
 * `to` is null when nothing qualifies; `why` then says what was skipped.
 */
export function rollbackTarget(
  all: Deployment[],
  current: string,
  env: string,
  opts: { toSha?: string; heldSha?: string | null } = {},
): Omit<RollbackChoice, 'to'> & { to: string | null } {
  const history = [...all].sort(byFinish);
  const verdict = verdicts(history);
  /** Why `sha` is no place to roll back to, or null. */
  const against = (sha: string): string | null => {
    const v = verdict.get(sha);
    const reasons = [v && !v.ok ? v.why : null, opts.heldSha === sha ? 'is held after a rollback' : null];
    return reasons.filter(Boolean).join(' and ') || null;
  };
  if (opts.toSha) {
    const note = against(opts.toSha);
    return {
      from: current,
      to: opts.toSha,
      why: `named with --to${note ? `, although ${short(opts.toSha)} ${note}` : ''}`,
      skipped: [],
    };
  }
  const skipped: RollbackChoice['skipped'] = [];
  const seen = new Set<string>([current]);
  for (const d of history) {
    if (d.status !== 'succeeded' || seen.has(d.sha)) continue;
    seen.add(d.sha);
    const why = against(d.sha);
    if (why) {
      skipped.push({ sha: d.sha, why });
      continue;
    }
    return {
      from: current,
      to: d.sha,
      why:
        `the newest release "${env}" ran healthy before ${short(current)}` +
        (skipped.length ? `, skipping ${skipped.length} rolled back from, failed or held` : ''),
      skipped,
    };
  }
  return {
    from: current,
    to: null,
    why: `"${env}" ran no release before ${short(current)} that was not rolled back from, failed or held`,
    skipped,
  };
}

/** One line per skipped release, for messages. */
export function skippedText(skipped: RollbackChoice['skipped']): string {
  return skipped.map((s) => `${short(s.sha)} (${s.why})`).join(', ');
}
