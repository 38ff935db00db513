import { Command, CommanderError } from 'commander';
import { ApiError } from './api-client.js';
import { appAdd, appList, appRegistry, appRemove, appSecret } from './commands/app.js';
import { artifactsCommand, pruneCommand } from './commands/artifacts.js';
import { checksCommand, revertsCommand } from './commands/checks.js';
import { gcCommand } from './commands/gc.js';
import type { ServerOptions } from './commands/server.js';
import { tokensCreate } from './commands/tokens.js';
import { CliError } from './context.js';
import { lazily } from './lazy.js';
import { safeText } from './output.js';
import { registerAccessCommands } from './program-access.js';
import { registerAgentCommands } from './program-agents.js';
import { registerApprovalCommands } from './program-approvals.js';
import { registerAuditCommands } from './program-audit.js';
import { registerNotificationCommands } from './program-notifications.js';
import { registerSecretCommands } from './program-secrets.js';
import { registerToggleCommands } from './program-toggles.js';
import { ensureTypescript } from './server-module.js';

// These modules load @gantry/contracts (zod, yaml, croner): only when one of their commands runs.
const { buildCommand, buildsCommand, cancelCommand, logsCommand } = lazily(
  () => import('./commands/build.js'),
);
const {
  deployCommand,
  historyCommand,
  holdReleaseCommand,
  lockCommand,
  recoverCommand,
  rollbackCommand,
  statusCommand,
  unlockCommand,
} = lazily(() => import('./commands/deploy.js'));
const { incidentList, incidentOpen, incidentResolve } = lazily(() => import('./commands/incidents.js'));
const { eventsExport, metricsCommand, reportCommand } = lazily(() => import('./commands/metrics.js'));
const { validateCommand } = lazily(() => import('./commands/validate.js'));

// These three load @gantry/server (Fastify, SQLite, pg …), which costs every other command a second
// or more of startup; they import it only when run.
const serverCommand = async (opts: ServerOptions) =>
  (await ensureTypescript().then(() => import('./commands/server.js'))).serverCommand(opts);
const demoCommand = async (opts: {
  keep?: boolean;
  containers?: boolean;
  baseImage?: string;
  registry?: string;
}) => (await ensureTypescript().then(() => import('./commands/demo.js'))).demoCommand(opts);
const hookInstall = async (repo: string, opts: { app: string; url?: string; json?: boolean }) =>
  (await ensureTypescript().then(() => import('./commands/hook.js'))).hookInstall(repo, opts);

export function buildProgram(): Command {
  const program = new Command('gantry')
    .description('Continuous delivery: every commit built once, promoted by tag, rolled back in a second.')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)');

  program
    .command('server')
    .description('run the API, the build runner and the poller')
    .option('--port <port>', 'port to listen on (GANTRY_PORT, default 7420)')
    .option('--host <host>', 'address to bind (GANTRY_HOST, default 127.0.0.1)')
    .option('--data-dir <dir>', 'where data lives (GANTRY_DATA_DIR, default ./.gantry)')
    .option('--database-url <url>', 'postgres://… to use PostgreSQL (GANTRY_DATABASE_URL; default SQLite)')
    .option('--concurrency <n>', 'builds run at once (GANTRY_RUNNER_CONCURRENCY, default 1)')
    .option(
      '--sandbox <mode>',
      'auto | bwrap | off: run build steps and deploy scripts in bubblewrap (GANTRY_BUILDS_SANDBOX, default auto)',
    )
    .option(
      '--log-file <path>',
      'server logs to this file, rotated by size (GANTRY_LOG_FILE; GANTRY_LOG_FILE_SIZE, _KEEP, _MAX_AGE); default stdout',
    )
    .action(serverCommand);

  const app = program.command('app').description('register and list apps (git repositories)');
  app
    .command('add <name> <repo>')
    .description('register a repository (URL or path) and build its head')
    .option('--branch <branch>', 'the main branch', 'main')
    .option('--poll <seconds>', 'poll interval in seconds, 0 to turn polling off (default 30)')
    .option('--json', 'print JSON')
    .action(appAdd);
  app.command('list').description('list apps').option('--json', 'print JSON').action(appList);
  app
    .command('secret <name>')
    .description("print the app's webhook secret")
    .option('--json', 'print JSON')
    .action(appSecret);
  app
    .command('registry <name> [registry]')
    .description(
      "show or set where the app's images go, host[:port][/prefix] (instead of the server's GANTRY_REGISTRY)",
    )
    .option('--insecure', 'plain HTTP; TLS is on otherwise')
    .option('--username <user>', 'the registry user')
    .option('--password-env <var>', "the server's environment variable that holds the password")
    .option('--password-file <path>', 'the file on the server that holds the password')
    .option('--clear', "forget it: the app's images go to the server's registry again")
    .option('--json', 'print JSON')
    .action(appRegistry);
  app
    .command('remove <name>')
    .description(
      'remove an app: its mirror, hook and client tokens; refuses while environments run; keeps history unless --purge',
    )
    .option('--stop-environments', "stop the app's running environments (through their drivers)")
    .option('--purge', 'also delete its history: deployments, builds, events, metrics, toggles')
    .option('--yes', 'do not ask for confirmation (required without a terminal)')
    .option('--json', 'print JSON')
    .action(appRemove);

  program
    .command('build [ref]')
    .description('build a ref (SHA, short SHA, tag, branch, HEAD~2) unless it has an artifact')
    .option('--app <name>', 'the app (default: the only one)')
    .option('--rebuild', 'build again and keep the old artifact')
    .option('--no-follow', 'queue and return at once')
    .option('--json', 'print JSON')
    .action((ref: string | undefined, opts) => buildCommand(ref ?? 'HEAD', opts));
  program
    .command('builds')
    .description('list builds, newest first')
    .option('--app <name>', 'only this app')
    .option('--status <status>', 'queued|running|succeeded|failed|cancelled|superseded|interrupted')
    .option('--limit <n>', 'how many', '20')
    .option('--json', 'print JSON')
    .action(buildsCommand);
  program
    .command('cancel <build>')
    .description('cancel a build')
    .option('--json', 'print JSON')
    .action(cancelCommand);
  program
    .command('logs <build>')
    .description("print a build's step logs")
    .option('-f, --follow', 'keep printing until the build finishes; exits 1 when it did not succeed')
    .option('--step <n>', 'only step n (0-based)')
    .action(logsCommand);
  program
    .command('artifacts')
    .description('list artifacts')
    .option('--app <name>', 'only this app')
    .option('--sha <sha>', 'only this commit (prefix)')
    .option('--all', 'include pruned ones')
    .option('--json', 'print JSON')
    .action(artifactsCommand);
  program
    .command('prune')
    .description(
      'delete artifacts no longer needed (replaced by a rebuild, or older than the newest N per app)',
    )
    .option('--keep <n>', 'artifacts to keep per app', '20')
    .option('--dry-run', 'only say what would go')
    .option('--json', 'print JSON')
    .action(pruneCommand);
  program
    .command('gc')
    .description(
      "collect artifacts by the server's retention policy: never what an environment runs, keeps warm or would roll back to",
    )
    .option('--dry-run', 'list what would go and why everything else stays; change nothing')
    .option('--keep <n>', "this run only: the newest artifacts kept per app (default: the server's)")
    .option('--max-age <age>', "this run only: keep anything younger (14d, 12h; default: the server's)")
    .option('--verbose', 'also list every kept artifact and why')
    .option('--json', 'print JSON')
    .action(gcCommand);
  program
    .command('validate [file]')
    .description('check a gantry.yaml (default ./gantry.yaml); errors name file:line:col')
    .option('--json', 'print JSON')
    .action(validateCommand);
  const hook = program.command('hook').description('git hooks that tell Gantry about pushes at once');
  hook
    .command('install <bare-repo>')
    .description('write a post-receive hook into a bare repository')
    .requiredOption('--app <name>', 'the app the repository belongs to')
    .option('--url <url>', 'server URL the hook calls (default: the CLI’s)')
    .option('--json', 'print JSON')
    .action(hookInstall);
  program
    .command('deploy <env> <ref>')
    .description(
      'deploy a ref (SHA, short SHA, tag, branch, HEAD~2): tags deploy/<env>/<UTC>-<sha>, pushes it, follows it',
    )
    .option('--app <name>', 'the app (default: the only one)')
    .option('--no-tag', 'call the API directly instead of creating a deploy tag')
    .option('--force', 'skip the promote_from gate (recorded)')
    .option('-y, --yes', 'confirm a protected environment without a prompt')
    .option('--reason <text>', 'why, recorded in the tag and the deployment')
    .option('--remediates <deployment>', 'the failed deployment this one fixes (counted as a fix-forward)')
    .option(
      '--override',
      'break-glass (admins only): deploy during a freeze window and without approvals; needs --reason; recorded',
    )
    .option('--dry-run', 'print the plan and change nothing')
    .option('--no-follow', 'return once queued')
    .option(
      '--timeout <duration>',
      'stop following after this long (e.g. 10m) and exit 1; the deployment stays queued or running',
    )
    .option('--json', 'print JSON')
    .action(deployCommand);
  program
    .command('rollback <env>')
    .description(
      'deploy the newest release <env> ran healthy before the current one, skipping releases rolled back from, failed or held (or --to <ref>)',
    )
    .option('--app <name>', 'the app (default: the only one)')
    .option('--to <ref>', 'the release to go back to (may be one rolled back from, failed or held)')
    .option('-y, --yes', 'confirm a protected environment without a prompt')
    .option('--reason <text>', 'why')
    .option('--json', 'print JSON')
    .action(rollbackCommand);
  program
    .command('status')
    .description('app × environment: SHA, commit, age, who, health, URL, locks, holds, queue')
    .option('--app <name>', 'only this app')
    .option('--json', 'print JSON')
    .action(statusCommand);
  program
    .command('history <env>')
    .description("an environment's deployments, newest first")
    .option('--app <name>', 'the app (default: the only one)')
    .option('--limit <n>', 'how many', '20')
    .option('--json', 'print JSON')
    .action(historyCommand);
  program
    .command('checks <deployment>')
    .description("a deployment's post-deploy checks: each run, its retries and the output of the failure")
    .option('--output', 'print the output of every run, not only of the last failure')
    .option('--json', 'print JSON')
    .action(checksCommand);
  program
    .command('reverts')
    .description('what Gantry blamed for failed QA checks, and the reverts it pushed or proposed')
    .option('--app <name>', 'the app (default: the only one)')
    .option('--limit <n>', 'how many (default 50)')
    .option('--json', 'print JSON')
    .action(revertsCommand);
  program
    .command('lock <env>')
    .description('stop the line: no deployment to <env> starts until unlocked')
    .option('--app <name>', 'the app (default: the only one)')
    .option('--reason <text>', 'why (recorded with who and since when)')
    .option('--json', 'print JSON')
    .action(lockCommand);
  program
    .command('unlock <env>')
    .description('let deployments to <env> start again')
    .option('--app <name>', 'the app (default: the only one)')
    .option('--json', 'print JSON')
    .action(unlockCommand);
  program
    .command('hold')
    .description('holds keep auto-deploy from bringing a rolled-back commit back')
    .command('release <env>')
    .description('lift the hold on <env>')
    .option('--app <name>', 'the app (default: the only one)')
    .option('--json', 'print JSON')
    .action(holdReleaseCommand);
  program
    .command('recover')
    .description('rebuild the deployment history from the deploy tags in git (after losing the database)')
    .option('--app <name>', 'the app (default: the only one)')
    .option('--json', 'print JSON')
    .action(recoverCommand);
  registerToggleCommands(program);
  registerNotificationCommands(program);
  registerAuditCommands(program);
  registerApprovalCommands(program);
  registerSecretCommands(program);
  const incident = program
    .command('incident')
    .description("incidents in an app's environment: they count in the delivery metrics");
  incident
    .command('open')
    .description('open an incident, optionally linked to the deployment that caused it')
    .option('--app <name>', 'the app (default: the only one)')
    .requiredOption('--env <env>', 'the environment where it happens')
    .option('--deployment <id>', 'the deployment that caused it (see `gantry history <env>`)')
    .option('--title <text>', 'what is wrong (default: "Incident in <app>/<env>")')
    .option('--opened-at <time>', 'when it began, to record it after the fact (ISO 8601; default now)')
    .option('--resolved-at <time>', 'when it was resolved, for one recorded after the fact (ISO 8601)')
    .option('--json', 'print JSON')
    .action(incidentOpen);
  incident
    .command('resolve <id>')
    .description('resolve an open incident')
    .option('--at <time>', 'when it was resolved (ISO 8601; default now; not before it opened)')
    .option('--json', 'print JSON')
    .action(incidentResolve);
  incident
    .command('list')
    .description('incidents, newest first')
    .option('--app <name>', 'only this app')
    .option('--env <env>', 'only this environment')
    .option('--open', 'only unresolved ones')
    .option('--json', 'print JSON')
    .action(incidentList);
  const metricsOptions = (c: Command) =>
    c
      .option('--app <name>', 'the app (default: the only one)')
      .option('--all-apps', 'every app together, ratios pooled')
      .option('--env <env>', 'the environment (default production)')
      .option('--from <time>', 'window start, ISO-8601, inclusive (default: 28 days before --to)')
      .option(
        '--to <time>',
        'window end, ISO-8601, exclusive (default: now; with --events, the day after the last deployment)',
      )
      .option('--days <n>', 'window length in days, ending at --to')
      .option('--bucket <bucket>', 'day, week or month (default week)')
      .option('--events <file>', 'compute from an events file instead of the server (docs/metrics.md)')
      .option('--rollback-slo <duration>', 'rollback time SLO (default 60s)')
      .option('--build-slo <duration>', 'build time SLO (default 10m)')
      .option(
        '--incident-window <duration>',
        'how long after a deployment an incident is blamed on it (default 24h)',
      );
  metricsOptions(
    program
      .command('metrics')
      .description(
        'delivery metrics: the four keys with DORA bands, rework, rollback and build times against their SLOs, releases, trend',
      ),
  )
    .option('--json', 'print JSON (the same as GET /api/metrics)')
    .action(metricsCommand);
  metricsOptions(
    program
      .command('report')
      .description('write the metrics as one self-contained HTML page with charts')
      .requiredOption('--html <file>', 'where to write the page'),
  ).action(reportCommand);
  program
    .command('events')
    .description('the history metrics are computed from')
    .command('export')
    .description(
      'write the server history as an events file (docs/metrics.md), e.g. for `gantry metrics --events`',
    )
    .option('--app <name>', 'only this app (default: all)')
    .option('-o, --output <file>', 'write to a file instead of standard output')
    .action(eventsExport);
  program
    .command('tokens')
    .description('client tokens for toggle SDKs (Unleash format, fixed to one app and environment)')
    .command('create')
    .description('create a client token `<app>:<env>.<secret>` (printed once; stored hashed)')
    .option('--app <name>', 'the app (default: the only one)')
    .requiredOption('--env <env>', 'the environment whose toggles the SDK reads')
    .option(
      '--kind <kind>',
      'client (server-side SDKs, OFREP) or frontend (browser and mobile SDKs: the Frontend API)',
      'client',
    )
    .option('--json', 'print JSON')
    .action(tokensCreate);
  registerAccessCommands(program);
  registerAgentCommands(program);
  program
    .command('demo')
    .description('run the whole flow on a sample app with embedded defaults')
    .option('--keep', 'stay up at the end, to look around in the web console (default in a terminal)')
    .option('--no-keep', 'stop everything at the end, even in a terminal')
    .option(
      '--containers',
      'build each release as an OCI image and run it with the container driver (needs an engine and a registry)',
    )
    .option('--base-image <ref>', 'with --containers: the image the app is copied into (needs node and sh)')
    .option(
      '--registry <host[:port][/prefix]>',
      'with --containers: where the images go (default GANTRY_REGISTRY)',
    )
    .action(demoCommand);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram().exitOverride();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    if (e instanceof CliError) {
      process.stderr.write(`error: ${safeText(e.message)}\n`);
      return e.exitCode;
    }
    if (e instanceof ApiError) {
      process.stderr.write(`error: ${safeText(e.message)}\n`);
      return e.status === 0 ? 3 : 1;
    }
    process.stderr.write(`error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return 1;
  }
}
