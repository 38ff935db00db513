import type { Command } from 'commander';
import { lazily } from './lazy.js';

const { auditList, auditVerify } = lazily(() => import('./commands/audit.js'));

/** `gantry audit` and `gantry audit verify`: who changed what, and proof that the record holds. */
export function registerAuditCommands(program: Command): void {
  const audit = program
    .command('audit')
    .description('changes made through the API, newest first: when, who, what, where, outcome')
    .option('--since <time>', 'from then on: an age (30m, 12h, 7d, 2w) or an ISO 8601 time')
    .option('--until <time>', 'before then: an age or an ISO 8601 time')
    .option('--app <name>', 'only changes to this app')
    .option('--env <env>', 'only changes to this environment')
    .option('--actor <who>', 'only changes by this actor (token:ci, user:ana) or name (ci, ana)')
    .option('--limit <n>', 'how many (default 50, at most 1000)')
    .option('--before <seq>', 'only entries before this one (the next page)')
    .option('--json', 'print JSON')
    .action(auditList);
  audit
    .command('verify')
    .description(
      "check the audit log's hash chain; exits 1 naming the first changed, missing or misplaced row",
    )
    .option('--json', 'print JSON')
    // `audit` has a --json of its own, which commander reads wherever it stands: take both.
    .action((_opts, cmd: Command) => auditVerify(cmd.optsWithGlobals()));
}
