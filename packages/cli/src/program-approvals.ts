import type { ApprovalState } from '@gantry/contracts';
import type { Command } from 'commander';
import { CliError, client, qs } from './context.js';
import { ago, printJson, safeText, short, table } from './output.js';

/** `3 of 2`, `1 of 2 (alice)`. */
function progressText(s: ApprovalState): string {
  const who = [...new Set(s.approvals.filter((a) => a.counts).map((a) => a.approver))];
  return `${s.approved} of ${s.required}${who.length ? ` (${who.join(', ')})` : ''}`;
}

function printState(s: ApprovalState): void {
  process.stdout.write(
    safeText(
      `deployment ${s.deploymentId}: ${s.app}/${s.env} ← ${short(s.sha)} (${s.digest}), ${s.status}\n` +
        `asked by ${s.requester}; approvals ${progressText(s)}, from ${s.from.join(', ')}` +
        `${s.selfApproval ? '' : '; not by the requester'}` +
        `${s.supersededBy ? `; replaced by ${s.supersededBy}` : ''}\n`,
    ),
  );
  if (s.approvals.length === 0) return;
  table(
    s.approvals.map((a) => ({
      who: a.approver,
      verdict: a.verdict,
      when: ago(a.createdAt),
      counts: a.verdict !== 'approved' ? '' : a.counts ? 'yes' : `no: ${a.why ?? ''}`,
      comment: (a.comment ?? '').split('\n')[0] ?? '',
    })),
    ['who', 'verdict', 'when', 'counts', 'comment'],
  );
}

async function decide(
  what: 'approve' | 'reject',
  deployment: string,
  opts: { message?: string; digest?: string; json?: boolean },
): Promise<void> {
  if (what === 'reject' && !opts.message?.trim())
    throw new CliError('a rejection needs a comment saying why: `gantry reject <deployment> -m "<why>"`');
  const api = await client();
  const s = await api.post<ApprovalState>(`/api/deployments/${encodeURIComponent(deployment)}/${what}`, {
    ...(opts.message !== undefined && { comment: opts.message }),
    ...(opts.digest !== undefined && { digest: opts.digest }),
  });
  if (opts.json) return printJson(s);
  const said =
    what === 'reject'
      ? `rejected deployment ${s.deploymentId}`
      : s.status === 'awaiting_approval'
        ? `approved deployment ${s.deploymentId}: ${progressText(s)}; it waits for ${s.required - s.approved} more`
        : `approved deployment ${s.deploymentId}: ${progressText(s)}; it is ${s.status} (follow it with \`gantry history ${s.env}\`)`;
  process.stdout.write(`${safeText(said)}\n`);
}

/** `gantry approvals`: what waits for approval; `gantry approvals <deployment>`: one request's decisions. */
async function approvalsCommand(
  deployment: string | undefined,
  opts: { app?: string; env?: string; json?: boolean },
): Promise<void> {
  const api = await client();
  if (deployment) {
    const s = await api.get<ApprovalState>(`/api/deployments/${encodeURIComponent(deployment)}/approvals`);
    return opts.json ? printJson(s) : printState(s);
  }
  const list = await api.get<ApprovalState[]>(`/api/approvals${qs({ app: opts.app, env: opts.env })}`);
  if (opts.json) return printJson(list);
  if (list.length === 0) {
    process.stdout.write('nothing waits for approval\n');
    return;
  }
  table(
    list.map((s) => ({
      deployment: s.deploymentId,
      app: s.app,
      env: s.env,
      sha: short(s.sha),
      digest: s.digest.replace(/^sha256:/, '').slice(0, 12),
      asked: s.requester,
      approvals: progressText(s),
      from: s.from.join(', '),
    })),
    ['deployment', 'app', 'env', 'sha', 'digest', 'asked', 'approvals', 'from'],
  );
}

/** `gantry approve`, `gantry reject` and `gantry approvals`: protected environments' requests. */
export function registerApprovalCommands(program: Command): void {
  program
    .command('approve <deployment>')
    .description('approve a deployment waiting for approval (its artifact digest); enough approvals queue it')
    .option('-m, --message <comment>', 'why, recorded with the approval')
    .option('--digest <digest>', 'the artifact digest you reviewed; refused if the request deploys another')
    .option('--json', 'print JSON')
    .action((deployment: string, opts: { message?: string; digest?: string; json?: boolean }) =>
      decide('approve', deployment, opts),
    );
  program
    .command('reject <deployment>')
    .description('reject a deployment waiting for approval, saying why; it will not run')
    .option('-m, --message <comment>', 'why (required)')
    .option('--json', 'print JSON')
    .action((deployment: string, opts: { message?: string; json?: boolean }) =>
      decide('reject', deployment, opts),
    );
  program
    .command('approvals [deployment]')
    .description(
      'deployments waiting for approval (oldest first), or one request: who asked, each decision and whether it counts',
    )
    .option('--app <name>', 'only this app')
    .option('--env <env>', 'only this environment')
    .option('--json', 'print JSON')
    .action(approvalsCommand);
}
