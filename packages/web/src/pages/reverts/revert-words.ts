/** Gantry's reverts in words: their status and the steps they record (see the server's Reverter). */

export type RevertStatus =
  | 'guarding'
  | 'bisecting'
  | 'reverting'
  | 'reverted'
  | 'proposed'
  | 'skipped'
  | 'failed';
type Tone = 'ok' | 'warn' | 'bad' | 'info' | 'neutral';

const STATUS: Record<RevertStatus, { tone: Tone; text: string }> = {
  guarding: {
    tone: 'info',
    text: 'deploying the last verified release back to see whether the environment itself is broken',
  },
  bisecting: { tone: 'info', text: 'finding the commit that broke the checks' },
  reverting: { tone: 'info', text: 'making the revert commit and pushing it' },
  reverted: { tone: 'ok', text: 'the revert is on the main branch and flows through the pipeline' },
  proposed: { tone: 'warn', text: 'the revert waits on a branch for a person to merge it' },
  skipped: { tone: 'neutral', text: 'nothing was reverted, on purpose' },
  failed: { tone: 'bad', text: 'the revert could not be finished' },
};

/** A revert's status: the badge's colour and one sentence of what it means. */
export function revertStatusWords(status: RevertStatus): { tone: Tone; text: string } {
  return STATUS[status] ?? { tone: 'neutral', text: status };
}

/** Still being worked on: the guard, a bisection or the revert itself. */
export function revertActive(status: string): boolean {
  return status === 'guarding' || status === 'bisecting' || status === 'reverting';
}

const STEPS: Record<string, string> = {
  'guard-deploy': 'Environment guard: the last verified release deployed back',
  guard: 'Environment guard: its checks again',
  bisect: 'Bisect: one commit tried',
  confirm: 'Confirm: the blamed commit tried again',
  blame: 'Blamed',
  reverted: 'Reverted',
  proposed: 'Proposed',
  skipped: 'Skipped',
  failed: 'Failed',
};

/** A step's name as a heading of the timeline; an unknown step keeps its own name. */
export function stepWords(step: string): string {
  return STEPS[step] ?? step;
}

/** Where the revert went: a commit pushed to the main branch, or a branch proposed for a person. */
export function revertOutcome(r: {
  revertSha: string | null;
  branch: string | null;
}):
  | { kind: 'commit'; sha: string }
  | { kind: 'branch'; sha: string | null; branch: string }
  | { kind: 'none' } {
  if (r.branch) return { kind: 'branch', sha: r.revertSha, branch: r.branch };
  if (r.revertSha) return { kind: 'commit', sha: r.revertSha };
  return { kind: 'none' };
}
