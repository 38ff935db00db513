import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../server/test/support/app-fixture.js';
import { cleanupAll } from '../../server/test/support/git-fixtures.js';
import { startTestServer, type TestServer } from '../../server/test/support/test-server.js';
import { CLI_BIN, type CliResult, type CliSandbox, cliEnv, makeCliSandbox } from './support/run-cli.js';

let server: TestServer;
/** The admin's shell (the server's first token). */
let admin: CliSandbox;
let adminEnv: Record<string, string>;
/** Alice's shell: no GANTRY_* at all, only what `gantry login` saves. */
let alice: CliSandbox;

/** Runs the CLI in a sandbox with `input` piped into its stdin (what `--password-stdin` reads). */
function runWithInput(sandbox: CliSandbox, args: string[], input: string, env: Record<string, string> = {}) {
  return new Promise<CliResult>((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_BIN, ...args], {
      cwd: sandbox.cwd,
      env: cliEnv({ XDG_CONFIG_HOME: sandbox.xdg, ...(sandbox === admin ? adminEnv : {}), ...env }),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    child.stdin.end(input);
  });
}

/**
 * Runs the CLI in a pseudo-terminal (util-linux `script`), typing each answer once its prompt has
 * appeared: what a person at a terminal does. Returns everything the terminal showed.
 */
function runAtTerminal(sandbox: CliSandbox, args: string[], answers: [RegExp, string][]) {
  return new Promise<{ code: number | null; screen: string }>((resolve, reject) => {
    const command = [process.execPath, CLI_BIN, ...args]
      .map((a) => `'${a.replace(/'/g, "'\\''")}'`)
      .join(' ');
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      cwd: sandbox.cwd,
      env: cliEnv({ XDG_CONFIG_HOME: sandbox.xdg, ...(sandbox === admin ? adminEnv : {}) }),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let screen = '';
    let next = 0;
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      screen += d;
      const answer = answers[next];
      if (answer?.[0].test(screen)) {
        next++;
        child.stdin.write(`${answer[1]}\r`);
      }
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, screen }));
  });
}

beforeAll(async () => {
  server = await startTestServer({ name: 'sqlite' });
  await createApp(server, 'build:\n  steps: []\n  artifact: { path: . }\n', { name: 'shop' });
  adminEnv = { GANTRY_URL: server.url, GANTRY_TOKEN: server.token };
  admin = await makeCliSandbox(adminEnv);
  alice = await makeCliSandbox();
});

afterAll(async () => {
  await server?.close();
  await admin?.cleanup();
  await alice?.cleanup();
  await cleanupAll();
});

interface WhoAmI {
  kind: string;
  name: string;
  groups: string[];
  bindings: { role: string; app: string | null; env: string | null }[];
  permissions: string[];
}

describe('gantry user, grant, login --user, whoami, token', () => {
  it('adds people with a password from stdin, grants a group a role, and signs a person in for a personal token', async () => {
    const added = await runWithInput(
      admin,
      ['user', 'add', 'alice', '--password-stdin', '--name', 'Alice A', '--group', 'ops'],
      'correct horse battery\n',
    );
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toBe(
      'added alice with a password, in ops; no role yet: `gantry grant alice <role>`\n',
    );

    const bob = await runWithInput(
      admin,
      ['user', 'add', 'bob', '--password-stdin', '--role', 'deployer', '--app', 'shop', '--env', 'qa'],
      'another long password\n',
    );
    expect(bob.code, bob.stderr).toBe(0);
    expect(bob.stdout).toBe('added bob with a password; roles: deployer@shop/qa\n');

    const badRoleAdd = await runWithInput(
      admin,
      ['user', 'add', 'carol', '--password-stdin', '--role', 'boss'],
      'long enough pw\n',
    );
    expect(badRoleAdd.code).toBe(1);
    expect(badRoleAdd.stderr).toContain('--role boss: one of admin, maintainer, deployer');
    const short = await runWithInput(admin, ['user', 'add', 'carol', '--password-stdin'], 'short\n');
    expect(short.code).toBe(1);
    expect(short.stderr).toContain('password: at least 10 characters');

    const granted = await admin.run(['grant', 'group:ops', 'viewer']);
    expect(granted.code, granted.stderr).toBe(0);
    expect(granted.stdout).toMatch(
      /^granted viewer on every app to group:ops \(binding (rb_\w+); `gantry ungrant \1` takes it back\)\n$/,
    );
    const onApp = await admin.run([
      'grant',
      'alice',
      'release-manager',
      '--app',
      'shop',
      '--env',
      'production',
    ]);
    expect(onApp.code, onApp.stderr).toBe(0);
    const badRole = await admin.run(['grant', 'alice', 'superuser']);
    expect(badRole.code).toBe(1);
    expect(badRole.stderr).toContain('role "superuser": one of admin, maintainer, deployer');

    const users = await admin.run(['user', 'list']);
    expect(users.code, users.stderr).toBe(0);
    const lines = users.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^LOGIN\s+NAME\s+SOURCE\s+GROUPS\s+STATE\s+ROLES$/);
    expect(lines[1]).toMatch(
      /^alice\s+Alice A\s+local\s+ops\s+active\s+viewer@every app \(group:ops\), release-manager@shop\/production$/,
    );
    expect(lines[2]).toMatch(/^bob\s+local\s+active\s+deployer@shop\/qa$/);

    const grants = await admin.json<{ id: string; subject: string; role: string }[]>(['grants', '--json']);
    expect(grants.map((g) => `${g.subject} ${g.role}`)).toEqual([
      'user:bob deployer',
      'group:ops viewer',
      'user:alice release-manager',
    ]);

    // Alice signs in with her password; the CLI keeps a personal token, not the password.
    const login = await runWithInput(
      alice,
      ['login', server.url, '--user', 'alice', '--password-stdin', '--expires', '30d'],
      'correct horse battery\n',
    );
    expect(login.code, login.stderr).toBe(0);
    const configFile = join(alice.xdg, 'gantry', 'config.json');
    expect(login.stdout).toBe(
      `Logged in to ${server.url} as alice (viewer on every app, release-manager on shop/production); saved to ${configFile}\n`,
    );
    expect(login.stderr).toMatch(
      new RegExp(`^made personal token (tok_\\w+) \\(cli@${hostname()}, until \\d{4}-`),
    );
    const saved = JSON.parse(await readFile(configFile, 'utf8')) as { url: string; token: string };
    expect(saved.url).toBe(server.url);
    expect(saved.token).not.toContain('correct horse');

    const me = await alice.json<WhoAmI>(['whoami', '--json']);
    expect(me).toMatchObject({ kind: 'user', name: 'alice', groups: ['ops'] });
    expect(me.bindings).toEqual(
      expect.arrayContaining([
        { role: 'viewer', app: null, env: null },
        { role: 'release-manager', app: 'shop', env: 'production' },
      ]),
    );
    expect(me.permissions).toContain('toggles:write');
    expect(me.permissions).not.toContain('deployments:write');
    const whoami = await alice.run(['whoami']);
    expect(whoami.stdout).toContain(`user alice at ${server.url}\ngroups: ops\nroles: `);

    // The session that made the token is signed out: only the token remains.
    const sessions = await server.gantry.database.db.selectFrom('console_sessions').select('id').execute();
    expect(sessions).toEqual([]);

    // A refused action says why, from the server, and exits non-zero.
    const refused = await alice.run(['user', 'add', 'mallory']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error: user "alice" may not users:write: it has /);
    expect(refused.stderr).toContain('Ask an admin for a role that grants it');
    const deploy = await alice.run(['lock', 'qa', '--app', 'shop']);
    expect(deploy.code).toBe(1);
    expect(deploy.stderr).toMatch(
      /^error: user "alice" may not environments:write on shop\/qa: it has viewer on every app, release-manager on shop\/production\. /,
    );

    // A wrong password is refused without saying whether the login exists.
    const wrong = await runWithInput(
      alice,
      ['login', server.url, '--user', 'alice', '--password-stdin'],
      'not it at all\n',
    );
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toBe('error: wrong login or password\n');
    const noOne = await runWithInput(
      alice,
      ['login', server.url, '--user', 'nobody', '--password-stdin'],
      'not it at all\n',
    );
    expect(noOne.stderr).toBe('error: wrong login or password\n');

    // Her own tokens she may list and revoke; everyone's only an admin.
    const mine = await alice.run(['token', 'list', '--mine']);
    expect(mine.code, mine.stderr).toBe(0);
    expect(mine.stdout).toMatch(
      new RegExp(`\\ncli@${hostname()}\\s|\\s+cli@${hostname()}\\s+personal\\s+as alice\\s+alice\\s`),
    );
    const all = await alice.run(['token', 'list']);
    expect(all.code).toBe(1);
    expect(all.stderr).toContain('may not tokens:write');

    // Disabling her stops the saved token at once; enabling brings it back.
    expect((await admin.run(['user', 'set', 'alice', '--disable'])).stdout).toBe(
      'changed alice; disabled: their sessions ended and their tokens stop working\n',
    );
    const disabled = await alice.run(['whoami']);
    expect(disabled.code).toBe(1);
    expect(disabled.stderr).toContain('unknown API token');
    expect((await admin.run(['user', 'set', 'alice', '--enable', '--group', 'ops,dev'])).stdout).toBe(
      'changed alice; enabled; groups: ops, dev\n',
    );
    expect((await alice.json<WhoAmI>(['whoami', '--json'])).groups).toEqual(['ops', 'dev']);

    // Taking the group's role back leaves her with her own binding only.
    const ungrant = await admin.run(['ungrant', 'group:ops', 'viewer']);
    expect(ungrant.code, ungrant.stderr).toBe(0);
    expect((await alice.json<WhoAmI>(['whoami', '--json'])).bindings).toEqual([
      { role: 'release-manager', app: 'shop', env: 'production' },
    ]);
    const none = await admin.run(['ungrant', 'group:ops', 'viewer']);
    expect(none.code).toBe(1);
    expect(none.stderr).toBe(
      'error: group:ops has no viewer on every app; it has no role binding (`gantry grants`)\n',
    );

    const removed = await admin.run(['user', 'rm', 'bob']);
    expect(removed.code, removed.stderr).toBe(0);
    expect((await admin.json<{ login: string }[]>(['user', 'list', '--json'])).map((u) => u.login)).toEqual([
      'alice',
    ]);
  });

  it('creates service tokens with any role, where and expiry; lists them with owner and last use; revokes at once', async () => {
    const created = await admin.run([
      'token',
      'create',
      'qa-deployer',
      '--role',
      'deployer',
      '--app',
      'shop',
      '--env',
      'qa',
      '--expires',
      '90d',
    ]);
    expect(created.code, created.stderr).toBe(0);
    const token = created.stdout.trim();
    expect(token).toMatch(/^gnt_/);
    const [, id] =
      created.stderr.match(/^token (tok_\w+) \(deployer\) created for shop\/qa, expires (\S+);/) ?? [];
    expect(id).toBeDefined();

    const roles = await admin.run(['roles']);
    expect(roles.code, roles.stderr).toBe(0);
    for (const role of ['admin', 'maintainer', 'deployer', 'release-manager', 'viewer', 'metrics-reader'])
      expect(roles.stdout).toMatch(new RegExp(`^${role}\\s`, 'm'));
    for (const role of ['maintainer', 'viewer', 'metrics-reader', 'release-manager']) {
      const res = await admin.run(['token', 'create', `t-${role}`, '--role', role]);
      expect(res.code, res.stderr).toBe(0);
    }
    const hook = await admin.run(['token', 'create', 'hook', '--role', 'hook', '--app', 'shop']);
    expect(hook.stderr).toContain('(hook) created for pushes of shop, never expires');
    const bad = await admin.run(['token', 'create', 'x', '--role', 'root']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(
      '--role root: one of admin, maintainer, deployer, release-manager, viewer, metrics-reader, hook',
    );
    const badExpiry = await admin.run(['token', 'create', 'x', '--expires', 'soon']);
    expect(badExpiry.code).toBe(1);
    expect(badExpiry.stderr).toContain('expires: "soon" is not a lifetime or a date');

    // Used once: last used shows it.
    const as = { env: { GANTRY_TOKEN: token } };
    const who = await admin.json<WhoAmI>(['whoami', '--json'], as);
    expect(who).toMatchObject({
      kind: 'token',
      name: 'qa-deployer',
      bindings: [{ role: 'deployer', app: 'shop', env: 'qa' }],
    });

    const list = await admin.run(['token', 'list']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout.split('\n')[0]).toMatch(
      /^ID\s+NAME\s+ROLE\s+WHERE\s+OWNER\s+LAST USED\s+EXPIRES\s+REVOKED$/,
    );
    const row = list.stdout.split('\n').find((l) => l.startsWith(id!));
    expect(row).toMatch(
      /qa-deployer\s+deployer\s+shop\/qa\s+\(service\)\s+\d+s ago\s+\d{4}-\d{2}-\d{2} \d{2}:\d{2}Z$/,
    );
    expect(list.stdout).toMatch(/hook\s+hook\s+pushes of shop\s+\(service\)\s+never\s+never/);
    expect(list.stdout).toMatch(/cli@\S+\s+personal\s+as alice\s+alice\s/);

    const revoked = await admin.run(['token', 'revoke', id!]);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toBe(
      `revoked ${id}: requests with it fail from now on and its event streams are closed\n`,
    );
    const after = await admin.run(['whoami'], as);
    expect(after.code).toBe(1);
    expect(after.stderr).toContain('unknown API token');
    const listed = await admin.json<{ id: string; revokedAt: string | null; lastUsedAt: string | null }[]>([
      'token',
      'list',
      '--json',
    ]);
    expect(listed.find((t) => t.id === id)).toMatchObject({
      revokedAt: expect.any(String),
      lastUsedAt: expect.any(String),
    });
    const again = await admin.run(['token', 'revoke', 'tok_nope']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('no token tok_nope');

    // The old form of login still works with a token.
    const login = await admin.run(['login', server.url, server.token], {
      env: { GANTRY_TOKEN: undefined, GANTRY_URL: undefined },
    });
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toBe(
      `Logged in to ${server.url}; saved to ${join(admin.xdg, 'gantry', 'config.json')}\n`,
    );
    const neither = await admin.run(['login', server.url]);
    expect(neither.code).toBe(1);
    expect(neither.stderr).toContain('give a token (`gantry login <url> <token>`) or sign in as a person');
  });
  it('asks for passwords at a terminal without showing them', async () => {
    const added = await runAtTerminal(
      admin,
      ['user', 'add', 'dora', '--role', 'viewer'],
      [
        [/password for dora \(at least 10 characters; empty: single sign-on only\): $/, 'typed secretly 1'],
        [/again, to be sure: $/, 'typed secretly 1'],
      ],
    );
    expect(added.code, added.screen).toBe(0);
    expect(added.screen).toContain('added dora with a password; roles: viewer@every app');
    expect(added.screen).not.toContain('typed secretly');

    const typo = await runAtTerminal(
      admin,
      ['user', 'set', 'dora', '--password'],
      [
        [/new password for dora: $/, 'first version 1'],
        [/again, to be sure: $/, 'second version 2'],
      ],
    );
    expect(typo.code).toBe(1);
    expect(typo.screen).toContain('error: the two passwords differ; nothing was changed');

    const dora = await makeCliSandbox();
    try {
      const login = await runAtTerminal(
        dora,
        ['login', server.url, '--user', 'dora'],
        [[new RegExp(`password of dora at ${server.url}: $`), 'typed secretly 1']],
      );
      expect(login.code, login.screen).toBe(0);
      expect(login.screen).toContain(`Logged in to ${server.url} as dora (viewer on every app)`);
      expect(login.screen).not.toContain('typed secretly');
      expect((await dora.json<WhoAmI>(['whoami', '--json'])).name).toBe('dora');
    } finally {
      await dora.cleanup();
    }
  });
});
