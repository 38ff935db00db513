import { Command, CommanderError } from 'commander';
import { ApiError } from './api-client.js';
import { appAdd, appList, appSecret } from './commands/app.js';
import { artifactsCommand, pruneCommand } from './commands/artifacts.js';
import { buildCommand, buildsCommand, cancelCommand, logsCommand } from './commands/build.js';
import {
  deployCommand,
  historyCommand,
  holdReleaseCommand,
  lockCommand,
  recoverCommand,
  rollbackCommand,
  statusCommand,
  unlockCommand,
} from './commands/deploy.js';
import { loginCommand } from './commands/login.js';
import type { ServerOptions } from './commands/server.js';
import { tokenCreate } from './commands/token.js';
import { validateCommand } from './commands/validate.js';
import { CliError } from './context.js';

// These three load @gantry/server (Fastify, SQLite, pg …), which costs every other command a second
// or more of startup; they import it only when run.
const serverCommand = async (opts: ServerOptions) =>
  (await import('./commands/server.js')).serverCommand(opts);
const demoCommand = async (opts: { keep?: boolean }) =>
  (await import('./commands/demo.js')).demoCommand(opts);
const hookInstall = async (repo: string, opts: { app: string; url?: string; json?: boolean }) =>
  (await import('./commands/hook.js')).hookInstall(repo, opts);

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
    .option('-f, --follow', 'keep printing until the build finishes')
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
    .option('--dry-run', 'print the plan and change nothing')
    .option('--no-follow', 'return once queued')
    .option('--json', 'print JSON')
    .action(deployCommand);
  program
    .command('rollback <env>')
    .description('deploy the previous successful release of <env> (or --to <ref>) through the same path')
    .option('--app <name>', 'the app (default: the only one)')
    .option('--to <ref>', 'the release to go back to')
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
  program
    .command('token')
    .description('API tokens')
    .command('create <name>')
    .description('create an API token (printed once; stored hashed)')
    .option('--role <role>', 'admin, or hook (may only notify pushes)', 'admin')
    .option('--json', 'print JSON')
    .action(tokenCreate);
  program
    .command('login <url> <token>')
    .description('save the server URL and token for this user')
    .action(loginCommand);
  program
    .command('demo')
    .description('run the whole flow on a sample app with embedded defaults')
    .option('--keep', 'keep the server running at the end')
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
      process.stderr.write(`error: ${e.message}\n`);
      return e.exitCode;
    }
    if (e instanceof ApiError) {
      process.stderr.write(`error: ${e.message}\n`);
      return e.status === 0 ? 3 : 1;
    }
    process.stderr.write(`error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return 1;
  }
}
