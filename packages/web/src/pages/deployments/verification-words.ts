/**
 * A deployment's verification and Gantry's own triggers in words. The board imports it, so it stays
 * tiny and free of React; the rest of the checks' words are in check-words.ts, loaded with the pages.
 */

export type Verification = 'verifying' | 'verified' | 'check_failed' | 'superseded';
export type Tone = 'ok' | 'warn' | 'bad' | 'info' | 'neutral';

const VERIFICATION: Record<Verification, { label: string; tone: Tone; title: string }> = {
  verifying: { label: 'verifying', tone: 'info', title: 'its post-deploy checks are running' },
  verified: { label: 'verified', tone: 'ok', title: 'every post-deploy check passed' },
  check_failed: { label: 'check failed', tone: 'bad', title: 'a post-deploy check failed' },
  superseded: {
    label: 'checks superseded',
    tone: 'neutral',
    title: 'a newer deployment replaced the release before its checks finished',
  },
};

/** A deployment's verification as a badge's word, colour and hover text. */
export function verificationWords(v: Verification): { label: string; tone: Tone; title: string } {
  return VERIFICATION[v];
}

/** A rollback asked by a person or made by Gantry after a failed check. */
export function isRollback(trigger: string): boolean {
  return trigger === 'rollback' || trigger === 'auto-rollback';
}

const TRIGGER_WORDS: Record<string, string> = {
  'auto-rollback': 'rolled back after a failed check',
  bisect: 'bisect',
};

/** What made a deployment, in words where the trigger's name alone does not say it. */
export function triggerWords(trigger: string): string {
  return TRIGGER_WORDS[trigger] ?? trigger;
}
