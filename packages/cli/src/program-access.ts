import type { Command } from 'commander';
import {
  collectGroups,
  grantCommand,
  grantsCommand,
  ROLES,
  rolesCommand,
  ungrantCommand,
  userAdd,
  userList,
  userRemove,
  userSet,
  whoamiCommand,
} from './commands/access.js';
import { loginCommand } from './commands/login.js';
import { TOKEN_ROLES, tokenCreate, tokenList, tokenRevoke } from './commands/token.js';

const ROLE_NAMES = ROLES.join(', ');

/**
 * People, role bindings, service and personal tokens, and signing in: `gantry user …`, `grant`,
 * `grants`, `ungrant`, `roles`, `whoami`, `token …` and `login` (docs/access.md).
 */
export function registerAccessCommands(program: Command): void {
  const user = program
    .command('user')
    .description('people: local accounts with a password, or single sign-on ones, in groups');
  user
    .command('add <login>')
    .description(
      'add a person; the password is typed without echo at a terminal or read with --password-stdin (none: single sign-on only)',
    )
    .option('--password-stdin', 'read the password from stdin (one final newline is dropped)')
    .option('--name <name>', 'their full name')
    .option('--email <email>', 'their email address')
    .option('--group <group>', 'a group they are in (repeat, or a,b)', collectGroups)
    .option('--role <role>', `also bind this role to user:<login> (${ROLE_NAMES})`)
    .option('--app <app>', 'with --role: only on this app (default every app)')
    .option('--env <env>', 'with --role and --app: only in this environment')
    .option('--json', 'print JSON')
    .action(userAdd);
  user
    .command('list')
    .description('people: login, source (local or the sign-on issuer), groups, state, roles and where')
    .option('--json', 'print JSON')
    .action(userList);
  user
    .command('set <login>')
    .description(
      'change a person: groups, name, email, password; --disable ends their sessions and stops their tokens',
    )
    .option('--group <group>', 'their groups, replacing the ones they had (repeat, or a,b)', collectGroups)
    .option('--clear-groups', 'take them out of every group')
    .option('--name <name>', 'their full name ("" to clear)')
    .option('--email <email>', 'their email address ("" to clear)')
    .option('--disable', 'they can no longer sign in; their sessions end and their tokens stop working')
    .option('--enable', 'let a disabled person in again')
    .option('--password', 'type a new password at the terminal (their sessions end)')
    .option('--password-stdin', 'read a new password from stdin (their sessions end)')
    .option('--json', 'print JSON')
    .action(userSet);
  user
    .command('rm <login>')
    .alias('remove')
    .description('remove a person: their sessions end, personal tokens are revoked, own role bindings go')
    .option('--json', 'print JSON')
    .action(userRemove);

  program
    .command('grant <subject> <role>')
    .description(
      `bind a role (${ROLE_NAMES}) to user:<login> or group:<name> (a bare name is a user), on every app, --app, or --app --env`,
    )
    .option('--app <app>', 'only on this app (default every app)')
    .option('--env <env>', 'with --app: only in this environment')
    .option('--json', 'print JSON')
    .action(grantCommand);
  program
    .command('grants')
    .description('every role binding: id, subject, role, where, who made it and when')
    .option('--subject <subject>', 'only this user:<login> or group:<name>')
    .option('--json', 'print JSON')
    .action(grantsCommand);
  program
    .command('ungrant <binding-or-subject> [role]')
    .description('remove a role binding by its id (`gantry grants`), or by subject, role and --app/--env')
    .option('--app <app>', 'with <subject> <role>: the binding on this app')
    .option('--env <env>', 'with <subject> <role> --app: the binding in this environment')
    .option('--json', 'print JSON')
    .action(ungrantCommand);
  program
    .command('roles')
    .description('the roles, what each grants, and its permissions')
    .option('--json', 'print JSON')
    .action(rolesCommand);
  program
    .command('whoami')
    .description('who the CLI acts as on which server: a person or a token, groups, roles, permissions')
    .option('--json', 'print JSON')
    .action(whoamiCommand);

  const token = program
    .command('token')
    .description('API tokens: service tokens with a role, and personal tokens');
  token
    .command('create <name>')
    .description('create a service token (printed once; stored hashed)')
    .option(
      '--role <role>',
      `${TOKEN_ROLES.join(', ')}; hook may only notify pushes of --app (\`gantry roles\` says what the others grant)`,
      'admin',
    )
    .option('--app <app>', "bind the role to this app (a hook token's app); default every app")
    .option('--env <env>', 'with --app: bind the role to this environment only')
    .option('--expires <when>', 'a lifetime (90d, 12h, 2w, 1y) or a date; default never')
    .option('--json', 'print JSON')
    .action(tokenCreate);
  token
    .command('list')
    .description('tokens: name, role, where, owner, last used (to the minute), expires, revoked')
    .option('--mine', 'only your own personal tokens (what a person without tokens:write may list)')
    .option('--json', 'print JSON')
    .action(tokenList);
  token
    .command('revoke <id>')
    .description('revoke a token at once (your own, or any with tokens:write); its event streams close')
    .option('--json', 'print JSON')
    .action(tokenRevoke);

  program
    .command('login <url> [token]')
    .description(
      'save the server URL and a token for this user; with --user, sign in with a password and save a personal token',
    )
    .option(
      '--user <login>',
      'sign in as this person (the password is typed without echo, or --password-stdin)',
    )
    .option('--password-stdin', 'with --user: read the password from stdin')
    .option('--expires <when>', 'with --user: how long the personal token lives (default 90d)')
    .action(loginCommand);
}
