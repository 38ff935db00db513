import type { CheckRun, Deployment, Revert } from '@gantry/contracts';
import { client, pickApp, qs } from '../context.js';
import { ago, duration, printJson, safeText, short, table } from '../output.js';

interface ChecksAnswer {
  deployment: Deployment;
  declared: { name: string; kind: string; retries: number }[];
  runs: CheckRun[];
}

/** The state of a deployment's checks in a word or two, for status and history. */
export function verificationText(d: Pick<Deployment, 'verification'> | null | undefined): string {
  if (!d?.verification) return '';
  return d.verification === 'check_failed' ? 'CHECK FAILED' : d.verification;
}

/** `gantry checks <deployment>`: each declared check, each of its runs, and the output of failures. */
export async function checksCommand(id: string, opts: { json?: boolean; output?: boolean }): Promise<void> {
  const api = await client();
  const answer = await api.get<ChecksAnswer>(`/api/deployments/${encodeURIComponent(id)}/checks`);
  if (opts.json) return printJson(answer);
  const d = answer.deployment;
  const state = d.verification ?? (answer.declared.length ? 'not started' : 'no checks declared');
  process.stdout.write(`${d.id}: ${d.app}/${d.env} ${short(d.sha)} (${d.trigger}) — checks: ${state}\n`);
  if (!answer.runs.length) return;
  table(
    answer.runs.map((r) => ({
      check: r.name,
      kind: r.kind,
      attempt: `${r.attempt}/${(answer.declared.find((c) => c.name === r.name)?.retries ?? 0) + 1}`,
      status: r.status,
      took: r.ms === null ? '' : duration(r.ms),
      when: ago(r.startedAt),
      error: (r.error ?? '').split('\n')[0]!.slice(0, 80),
    })),
    ['check', 'kind', 'attempt', 'status', 'took', 'when', 'error'],
  );
  const shown = opts.output ? answer.runs : answer.runs.filter((r) => r.status === 'failed').slice(-1);
  for (const r of shown) {
    if (!r.output.trim()) continue;
    process.stdout.write(
      `\n--- ${r.name} (attempt ${r.attempt}, ${r.status}) output:\n${safeText(r.output.trimEnd())}\n`,
    );
  }
}

/** `gantry reverts`: what Gantry found to blame for failed checks and what it did. */
export async function revertsCommand(opts: { app?: string; json?: boolean; limit?: string }): Promise<void> {
  const api = await client();
  const app = await pickApp(api, opts.app);
  const list = await api.get<Revert[]>(`/api/reverts${qs({ app, limit: opts.limit })}`);
  if (opts.json) return printJson(list);
  if (!list.length) {
    process.stdout.write(
      `no automatic reverts for ${app}: nothing failed the checks of an auto-deployed environment\n`,
    );
    return;
  }
  table(
    list.map((r) => ({
      id: r.id,
      env: r.env,
      failed: short(r.sha),
      check: r.check ?? '',
      blamed: short(r.blamedSha),
      status: r.status,
      revert: r.branch ? `${short(r.revertSha)} on ${r.branch}` : short(r.revertSha),
      when: ago(r.createdAt),
      why: (r.why ?? '').slice(0, 90),
    })),
    ['id', 'env', 'failed', 'check', 'blamed', 'status', 'revert', 'when', 'why'],
  );
}
