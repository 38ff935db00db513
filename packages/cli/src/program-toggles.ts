import type { Command } from 'commander';
import {
  releaseAdd,
  releaseApply,
  releaseCancel,
  releaseCreate,
  releaseList,
  releaseRemove,
  releaseRevert,
  releaseSchedule,
  releaseShow,
  releaseUnschedule,
} from './commands/releases.js';
import { togglesClients } from './commands/toggle-clients.js';
import {
  togglesArchive,
  togglesCopy,
  togglesCreate,
  togglesDisable,
  togglesEnable,
  togglesList,
  togglesRollout,
  togglesShow,
  togglesStale,
} from './commands/toggles.js';
import { lazily } from './lazy.js';

// It loads @gantry/contracts (zod, yaml, croner): only when one of its commands runs.
const {
  segmentCreate,
  segmentList,
  toggleStrategyAdd,
  toggleStrategyList,
  toggleStrategyRemove,
  toggleVariantsClear,
  toggleVariantsSet,
} = lazily(() => import('./commands/toggle-rules.js'));

/** `gantry toggles …` and `gantry release …`: deployed is not released. */
export function registerToggleCommands(program: Command): void {
  const toggles = program.command('toggles').description('feature toggles: deployed is not released');
  const appOpt = ['--app <name>', 'the app (default: the only one)'] as const;
  toggles
    .command('list')
    .description('toggles and their state per environment')
    .option(...appOpt)
    .option('--archived', 'include archived')
    .option('--json', 'print JSON')
    .action(togglesList);
  toggles
    .command('show <name>')
    .description('a toggle in detail')
    .option(...appOpt)
    .option('--json', 'print JSON')
    .action(togglesShow);
  toggles
    .command('create <name>')
    .description('create a toggle (off everywhere)')
    .option(...appOpt)
    .option('--type <type>', 'release, experiment, operational, kill-switch or permission', 'release')
    .option('--description <text>', 'what it hides')
    .option('--owner <who>', 'who answers for it')
    .option('--json', 'print JSON')
    .action(togglesCreate);
  toggles
    .command('enable <name> <env>')
    .description('turn it on in an environment')
    .option(...appOpt)
    .option('--json', 'print JSON')
    .action(togglesEnable);
  toggles
    .command('disable <name> <env>')
    .description('turn it off in an environment')
    .option(...appOpt)
    .option('--json', 'print JSON')
    .action(togglesDisable);
  toggles
    .command('rollout <name> <env> <percent>')
    .description('on for a share of users (sticky per user)')
    .option(...appOpt)
    .option('--json', 'print JSON')
    .action(togglesRollout);
  toggles
    .command('archive <name>')
    .description('retire a toggle')
    .option(...appOpt)
    .option('--json', 'print JSON')
    .action(togglesArchive);
  toggles
    .command('copy <name>')
    .description("copy a toggle's state between environments (prints the difference first)")
    .option(...appOpt)
    .requiredOption('--from <env>', 'source environment')
    .requiredOption('--to <env>', 'target environment')
    .option('-y, --yes', 'apply after showing the difference')
    .option('--json', 'print JSON')
    .action(togglesCopy);
  toggles
    .command('stale')
    .description('toggles fully on for more than N days, or not evaluated for N days')
    .option(...appOpt)
    .option('--env <env>', 'environment', 'production')
    .option('--days <n>', 'days', '30')
    .option('--json', 'print JSON')
    .action(togglesStale);
  toggles
    .command('clients')
    .description('SDK instances that connected: when last seen, and which revision they last fetched')
    .option(...appOpt)
    .option('--env <env>', 'only this environment')
    .option('--json', 'print JSON')
    .action(togglesClients);
  const many = (v: string, prev: string[] = []) => [...prev, v];
  const envReq = ['--env <env>', 'the environment'] as const;
  const constraintOpt = [
    '--constraint <rule>',
    'only where "<context> [NOT] <OPERATOR>[/i] <values>", e.g. "userId IN a,b" (repeat: all must hold)',
    many,
  ] as const;
  const strategy = toggles.command('strategy').description("a toggle's strategies in one environment (ORed)");
  strategy
    .command('add <toggle>')
    .description('add a strategy: everyone (default), --rollout, --users, --ips or --hosts, with constraints')
    .option(...appOpt)
    .requiredOption(...envReq)
    .option('--rollout <percent>', 'on for a share of users (flexibleRollout)')
    .option('--stickiness <field>', 'what the rollout sticks to', 'default')
    .option('--group-id <id>', 'rollout group (default: the toggle name)')
    .option('--users <ids>', 'on for these user ids (comma-separated)')
    .option('--ips <addresses>', 'on for these IPs or CIDRs (comma-separated)')
    .option('--hosts <names>', 'on for these application hostnames (comma-separated)')
    .option(...constraintOpt)
    .option('--segment <name>', 'only for this segment (repeat: all must hold)', many)
    .option('--json', 'print JSON')
    .action(toggleStrategyAdd);
  strategy
    .command('list <toggle>')
    .description('the strategies, numbered')
    .option(...appOpt)
    .requiredOption(...envReq)
    .option('--json', 'print JSON')
    .action(toggleStrategyList);
  strategy
    .command('remove <toggle> <n>')
    .description('remove the n-th strategy (see strategy list)')
    .option(...appOpt)
    .requiredOption(...envReq)
    .option('--json', 'print JSON')
    .action(toggleStrategyRemove);
  const variants = toggles.command('variants').description("a toggle's variants in one environment");
  variants
    .command('set <toggle>')
    .description('replace the variants')
    .option(...appOpt)
    .requiredOption(...envReq)
    .option(
      '--variant <spec>',
      'name[:percent[:type:payload]], e.g. blue:50:json:{"c":"#00f"}; shares left out split the rest (repeat)',
      many,
    )
    .option('--stickiness <field>', 'what the choice sticks to', 'default')
    .option('--json', 'print JSON')
    .action(toggleVariantsSet);
  variants
    .command('clear <toggle>')
    .description('remove every variant')
    .option(...appOpt)
    .requiredOption(...envReq)
    .option('--json', 'print JSON')
    .action(toggleVariantsClear);
  const segment = toggles.command('segment').description('reusable sets of constraints, per app');
  segment
    .command('create <name>')
    .description('a named set of constraints strategies can use (--segment)')
    .option(...appOpt)
    .option(...constraintOpt)
    .option('--description <text>', 'what it selects')
    .option('--replace', 'replace the constraints of an existing segment')
    .option('--json', 'print JSON')
    .action(segmentCreate);
  segment
    .command('list')
    .description("the app's segments")
    .option(...appOpt)
    .option('--json', 'print JSON')
    .action(segmentList);

  const release = program
    .command('release')
    .description('releases: named bundles of toggle changes, applied together');
  release
    .command('create <name>')
    .description('a new draft release')
    .option('--notes <text>', 'notes for stakeholders')
    .option('--json', 'print JSON')
    .action(releaseCreate);
  release
    .command('add <release> <app> <toggle> <env>')
    .description('add a toggle change to a release')
    .option('--enable', 'turn the toggle on')
    .option('--disable', 'turn the toggle off')
    .option('--rollout <percent>', 'on for a share of users')
    .option('--json', 'print JSON')
    .action(releaseAdd);
  release
    .command('remove <release> <change...>')
    .description(
      'take a change out of a draft or scheduled release: its # from `release show`, or <app> <toggle> <env>',
    )
    .option('--json', 'print JSON')
    .action(releaseRemove);
  release
    .command('show <name>')
    .description('a release and its changes')
    .option('--json', 'print JSON')
    .action(releaseShow);
  release.command('list').description('releases').option('--json', 'print JSON').action(releaseList);
  release
    .command('schedule <name> <at>')
    .description('apply at a time (ISO 8601)')
    .option('--json', 'print JSON')
    .action(releaseSchedule);
  release
    .command('unschedule <name>')
    .description('a scheduled release back to a draft: it is not applied at its time')
    .option('--json', 'print JSON')
    .action(releaseUnschedule);
  release
    .command('apply <name>')
    .description('apply every change in one revision')
    .option('--json', 'print JSON')
    .action(releaseApply);
  release
    .command('revert <name>')
    .description('restore exactly the state before the release')
    .option('--json', 'print JSON')
    .action(releaseRevert);
  release
    .command('cancel <name>')
    .description('give up a draft, scheduled or failed release (revert an applied one)')
    .option('--json', 'print JSON')
    .action(releaseCancel);
}
