import type { Deployment, GantryEvent, Incident } from '@gantry/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeployableApp, deployedTo, envPorts } from '../../server/test/support/deploy-fixture.js';
import { cleanupAll } from '../../server/test/support/git-fixtures.js';
import { startTestServer, type TestServer } from '../../server/test/support/test-server.js';
import { type CliSandbox, makeCliSandbox } from './support/run-cli.js';

let server: TestServer;
let cli: CliSandbox;
let qa: Deployment;

beforeAll(async () => {
  server = await startTestServer();
  const app = await createDeployableApp(server, await envPorts());
  qa = await deployedTo(server, 'qa', app.v1);
  cli = await makeCliSandbox({ GANTRY_URL: server.url, GANTRY_TOKEN: server.token });
});

afterAll(async () => {
  await server?.close();
  await cli?.cleanup();
  await cleanupAll();
});

describe('gantry incident', () => {
  it('opens an incident linked to a deployment, lists it, resolves it once', async () => {
    const opened = await cli.run([
      'incident',
      'open',
      '--app',
      'shop',
      '--env',
      'qa',
      '--deployment',
      qa.id,
      '--title',
      'Checkout answers 500',
    ]);
    expect(opened.code).toBe(0);
    const id = opened.stdout.match(
      /^opened incident (inc_\w+) in shop\/qa: Checkout answers 500 \(deployment (dep_\w+)\)$/m,
    );
    expect(id?.[2]).toBe(qa.id);
    expect(opened.stdout).toContain(`resolve it with \`gantry incident resolve ${id![1]}\``);

    const other = await cli.json<Incident>(['incident', 'open', '--env', 'staging', '--json']);
    expect(other).toMatchObject({
      app: 'shop',
      env: 'staging',
      title: 'Incident in shop/staging',
      deploymentId: null,
      openedBy: expect.stringMatching(/ \(token:admin\)$/),
      resolvedAt: null,
    });

    const table = await cli.run(['incident', 'list']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^ID\s+APP\s+ENV\s+OPENED\s+RESOLVED\s+DEPLOYMENT\s+TITLE\n/);
    expect(
      table.stdout
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.split(/\s+/)[0]),
    ).toEqual([other.id, id![1]]);
    expect(table.stdout).toMatch(
      new RegExp(`${id![1]}\\s+shop\\s+qa\\s+.*ago\\s+open\\s+${qa.id}\\s+Checkout answers 500`),
    );

    const resolved = await cli.run(['incident', 'resolve', id![1]!]);
    expect(resolved.code).toBe(0);
    expect(resolved.stdout).toMatch(new RegExp(`^resolved incident ${id![1]} in shop/qa after \\d`));
    const again = await cli.run(['incident', 'resolve', id![1]!]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`error: incident ${id![1]} was already resolved by`);

    const open = await cli.json<Incident[]>(['incident', 'list', '--open', '--json']);
    expect(open.map((i) => i.id)).toEqual([other.id]);
    const inQa = await cli.json<Incident[]>(['incident', 'list', '--app', 'shop', '--env', 'qa', '--json']);
    expect(inQa).toEqual([expect.objectContaining({ id: id![1], resolvedAt: expect.any(String) })]);

    const events = (await server.api<GantryEvent[]>('GET', '/api/events?app=shop')).body.filter((e) =>
      e.type.startsWith('incident.'),
    );
    expect(events.map((e) => [e.type, e.subject])).toEqual([
      ['incident.opened', id![1]],
      ['incident.opened', other.id],
      ['incident.resolved', id![1]],
    ]);
  });

  it('records an incident after the fact, and refuses a resolution before it opened', async () => {
    const day = new Date(Date.now() - 2 * 86_400_000).toISOString().slice(0, 10);
    const past = await cli.run([
      'incident',
      'open',
      '--env',
      'staging',
      '--opened-at',
      `${day} 10:00`,
      '--resolved-at',
      `${day}T10:40:00Z`,
    ]);
    expect(past.code, past.stderr).toBe(0);
    expect(past.stdout).toMatch(/^opened incident inc_\w+ in shop\/staging: .*\nresolved after 40m0s\n$/);

    const open = await cli.json<Incident>([
      'incident',
      'open',
      '--env',
      'staging',
      '--opened-at',
      `${day}T10:00:00Z`,
      '--json',
    ]);
    expect(open.openedAt).toBe(`${day}T10:00:00.000Z`);
    const early = await cli.run(['incident', 'resolve', open.id, '--at', `${day}T09:35:00Z`]);
    expect(early.code).toBe(1);
    expect(early.stderr).toContain(
      `resolvedAt: ${day}T09:35:00.000Z is before the incident opened (${day}T10:00:00.000Z); an incident cannot be resolved before it opens`,
    );
    const bad = await cli.run(['incident', 'resolve', open.id, '--at', 'yesterday']);
    expect(bad.stderr).toContain('--at must be an ISO-8601 time');
    const ok = await cli.run(['incident', 'resolve', open.id, '--at', `${day}T10:25:00Z`]);
    expect(ok.stdout).toMatch(/after 25m0s$/m);
  });

  it('fails with what to do for an unknown environment, app or deployment', async () => {
    const env = await cli.run(['incident', 'open', '--env', 'moon']);
    expect(env.code).toBe(1);
    expect(env.stderr).toContain(
      'app "shop" has no environment "moon"; its environments are qa, staging, production',
    );
    const app = await cli.run(['incident', 'open', '--app', 'ghost', '--env', 'qa']);
    expect(app.code).toBe(1);
    expect(app.stderr).toContain('no app named "ghost"');
    const dep = await cli.run(['incident', 'open', '--env', 'qa', '--deployment', 'dep_nope']);
    expect(dep.code).toBe(1);
    expect(dep.stderr).toContain('no deployment "dep_nope"');
    const noEnv = await cli.run(['incident', 'open']);
    expect(noEnv.code).toBe(1);
    expect(noEnv.stderr).toContain("required option '--env <env>' not specified");
    const unknown = await cli.run(['incident', 'resolve', 'inc_nope']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no incident "inc_nope"; see `gantry incident list`');
  });
});
