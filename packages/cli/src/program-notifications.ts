import type { Command } from 'commander';
import { lazily } from './lazy.js';

// Both load @gantry/contracts (zod, yaml, croner): only when one of their commands runs.
const { appForge } = lazily(() => import('./commands/forge.js'));
const { webhooksAdd, webhooksDeliveries, webhooksList, webhooksRedeliver, webhooksRemove } = lazily(
  () => import('./commands/webhooks.js'),
);

/** `gantry webhooks …` and `gantry app forge`: telling people and tools what Gantry does. */
export function registerNotificationCommands(program: Command): void {
  const app = program.commands.find((c) => c.name() === 'app') ?? program.command('app');
  app
    .command('forge <name>')
    .description(
      "show, set or clear where the app's commit statuses and deployments go (GitHub, GitLab, Gitea)",
    )
    .option('--provider <provider>', 'github, gitlab or gitea')
    .option('--repo <repo>', 'owner/name (GitLab: also a project id or group/…/project)')
    .option(
      '--api-url <url>',
      'GitHub: the API root (default https://api.github.com); GitLab, Gitea: the instance (default https://gitlab.com, https://gitea.com)',
    )
    .option('--token-env <var>', 'the token is in this variable of your environment (needed the first time)')
    .option('--token-file <path>', 'the token is in this file')
    .option(
      '--production-env <list>',
      'comma-separated environments GitHub shows as production (default production)',
    )
    .option('--clear', 'stop sending statuses there and forget the token')
    .option('--deliveries', 'list the calls made to the forge, newest first, with their answers')
    .option('--json', 'print JSON')
    .action(appForge);
  const webhooks = program
    .command('webhooks')
    .description("send Gantry's events to a URL (Gantry's JSON or a Slack message), signed, retried, logged");
  webhooks
    .command('add <url>')
    .description('send events to <url> (http or https) from now on')
    .option('--app <name>', "only this app's events (default: every app's)")
    .option(
      '--events <list>',
      'comma-separated event types or prefixes, e.g. deployment.*,incident.opened; * for all ' +
        '(default: build.failed, deployments done, checks, reverts, incidents)',
    )
    .option(
      '--format <format>',
      'gantry (the event as JSON) or slack (an incoming-webhook message)',
      'gantry',
    )
    .option('--secret-env <var>', 'sign requests with the secret in this variable of your environment')
    .option('--secret-file <path>', 'sign requests with the secret in this file')
    .option('--timeout <duration>', 'per attempt, e.g. 10s (default 10s, at most 60s)')
    .option('--max-attempts <n>', 'attempts before giving up, 1 to 20 (default 5)')
    .option('--json', 'print JSON')
    .action(webhooksAdd);
  webhooks
    .command('list')
    .description('webhooks and how many deliveries went, failed or wait')
    .option('--app <name>', "only this app's own webhooks")
    .option('--json', 'print JSON')
    .action(webhooksList);
  webhooks
    .command('remove <id>')
    .description('stop sending to a webhook and forget its delivery log')
    .option('--json', 'print JSON')
    .action(webhooksRemove);
  webhooks
    .command('deliveries <id>')
    .description("a webhook's deliveries, newest first: each event, its attempts and the last answer")
    .option('--status <status>', 'pending, succeeded, failed or skipped')
    .option('--limit <n>', 'how many (default 50)')
    .option('--json', 'print JSON, with every attempt and the start of each answer')
    .action(webhooksDeliveries);
  webhooks
    .command('redeliver <delivery>')
    .description('send a delivery again now (a new attempt, recorded); exits 1 unless the receiver took it')
    .option('--json', 'print JSON')
    .action(webhooksRedeliver);
}
