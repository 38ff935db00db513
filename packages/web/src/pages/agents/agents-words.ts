/** Labels typed as "linux, big" (commas or spaces): trimmed, without repeats, as groups are. */
export { parseGroups as parseLabels } from '../people/people-words';

/** What the page says of an agent: revoked, connected (asked lately) or idle. */
export function agentState(a: {
  revokedAt: string | null;
  connected: boolean;
}): 'revoked' | 'connected' | 'idle' {
  if (a.revokedAt) return 'revoked';
  return a.connected ? 'connected' : 'idle';
}

/** The command to run on the agent's machine with a new token (shown once). */
export function agentCommand(server: string, token: string, labels: string[]): string {
  return `gantry agent --server ${server} --token ${token} --labels ${labels.join(',')}`;
}
