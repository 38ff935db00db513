import { ApiError } from '../../api/client';

/** One decision on a request, as the API gives it. */
export interface Decision {
  approver: string;
  verdict: 'approved' | 'rejected';
  comment: string | null;
  createdAt: string;
  counts: boolean;
  why: string | null;
}

/** "1 of 2 approvals", "2 of 2 approvals". */
export function progressWords(approved: number, required: number): string {
  return `${approved} of ${required} approval${required === 1 ? '' : 's'}`;
}

/** Who approved so far, counting ones only: "alice, bob", or "nobody yet". */
export function approvedByWords(decisions: Decision[]): string {
  const who = decisions.filter((d) => d.verdict === 'approved' && d.counts).map((d) => d.approver);
  return who.length ? who.join(', ') : 'nobody yet';
}

/** "alice, group:ops": who may approve, as gantry.yaml names them. */
export function fromWords(from: string[]): string {
  return from.length ? from.join(', ') : 'anyone with deployments:write';
}

/** "expires 14:05 on 3 May (in 5h)", "expired 10m ago", or "does not expire". */
export function expiryWords(expiresAt: string | null | undefined, now = Date.now()): string {
  if (!expiresAt) return 'does not expire';
  const t = Date.parse(expiresAt);
  if (!Number.isFinite(t)) return 'does not expire';
  const at = new Date(t).toLocaleString([], {
    day: 'numeric',
    month: 'short',
    hour: '2-digit',
    minute: '2-digit',
  });
  const s = Math.round((t - now) / 1000);
  return s > 0 ? `expires ${at} (in ${span(s)})` : `expired ${at} (${span(-s)} ago)`;
}

function span(s: number): string {
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`;
}

/** One decision in a sentence: who, what, their comment, and why it no longer counts. */
export function decisionWords(d: Decision): string {
  const what = `${d.approver} ${d.verdict}`;
  const comment = d.comment ? `: “${d.comment}”` : '';
  const counts =
    d.verdict === 'approved' && !d.counts ? ` (does not count: ${d.why ?? 'no longer valid'})` : '';
  return `${what}${comment}${counts}`;
}

/** A short digest for a line of text: "sha256:4f1c2a…9e0d". */
export function shortDigest(digest: string): string {
  const [algo, hex] = digest.includes(':') ? digest.split(':', 2) : ['', digest];
  if (!hex || hex.length <= 16) return digest;
  return `${algo ? `${algo}:` : ''}${hex.slice(0, 8)}…${hex.slice(-4)}`;
}

/** A reject without a comment is refused before it is sent; the server would refuse it too. */
export function decisionProblem(verdict: 'approve' | 'reject', comment: string): string | null {
  return verdict === 'reject' && !comment.trim() ? 'A rejection needs a comment saying why.' : null;
}

/** The server's refusal of an approval or rejection, in words a person acts on. */
export function refusalWords(error: unknown): string {
  if (!(error instanceof ApiError)) return error instanceof Error ? error.message : String(error);
  if (error.status === 403) return `Refused: ${error.message}`;
  if (error.status === 409) return `Not possible now: ${error.message}`;
  return error.message;
}
