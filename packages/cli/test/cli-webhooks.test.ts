import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Receiver,
  startReceiver,
  verifyGantrySignature,
} from '../../server/test/notifications/receiver.js';
import { createApp, finishedBuild, yamlWithSteps } from '../../server/test/support/app-fixture.js';
import { cleanupAll } from '../../server/test/support/git-fixtures.js';
import { startTestServer, type TestServer, waitFor } from '../../server/test/support/test-server.js';
import type { Delivery } from '../src/commands/webhooks.js';
import { type CliSandbox, makeCliSandbox } from './support/run-cli.js';

let server: TestServer;
let cli: CliSandbox;
let receiver: Receiver;

beforeAll(async () => {
  server = await startTestServer({ name: 'sqlite' }, { webhookBackoffMs: 50 });
  receiver = await startReceiver();
  cli = await makeCliSandbox({ GANTRY_URL: server.url, GANTRY_TOKEN: server.token });
});

afterAll(async () => {
  await server?.close();
  await receiver?.close();
  await cli?.cleanup();
  await cleanupAll();
});

describe('gantry webhooks', () => {
  it('adds a signed webhook from a secret in the environment, lists it, shows and redelivers its deliveries, removes it', async () => {
    const secret = 'cli-secret-0123456789';
    const typo = await cli.run(['webhooks', 'add', receiver.url, '--events', 'deploymnet.*']);
    expect(typo.code).toBe(1);
    expect(typo.stderr).toContain('did you mean "deployment.*"?');
    const unset = await cli.run(['webhooks', 'add', receiver.url, '--secret-env', 'NOT_SET_ANYWHERE']);
    expect(unset.code).toBe(1);
    expect(unset.stderr).toContain('--secret-env NOT_SET_ANYWHERE: the variable is not set or empty');

    const added = await cli.run(
      [
        'webhooks',
        'add',
        `${receiver.url}/cli`,
        '--events',
        'webhook.added,deployment.*',
        '--secret-env',
        'HOOK_SECRET',
      ],
      { env: { HOOK_SECRET: secret } },
    );
    expect(added.code, added.stderr).toBe(0);
    const id = added.stdout.match(
      /^added webhook (whk_\w+): every app's webhook\.added, deployment\.\* to /m,
    )?.[1];
    expect(id, added.stdout).toBeDefined();
    expect(added.stdout).toContain('(gantry, signed, timeout 10.0s, 5 attempts)');
    expect(added.stdout).toContain(`see what was sent with \`gantry webhooks deliveries ${id}\``);

    const file = join(cli.cwd, 'slack-secret');
    await writeFile(file, 'file-secret-0123456789\n');
    const slack = await cli.json<{ id: string; format: string; signed: boolean; timeoutMs: number }>([
      'webhooks',
      'add',
      'https://hooks.slack.com/services/T0/B0/SECRETPART',
      '--format',
      'slack',
      '--secret-file',
      file,
      '--timeout',
      '2s',
      '--json',
    ]);
    expect(slack).toMatchObject({ format: 'slack', signed: true, timeoutMs: 2000 });

    const [ping] = await receiver.waitFor(1);
    expect(ping!.url).toBe('/cli');
    expect(verifyGantrySignature(secret, ping!)).toBe(true);

    const list = await cli.run(['webhooks', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^ID\s+APP\s+EVENTS\s+FORMAT\s+SIGNED\s+SENT\s+FAILED\s+PENDING\s+URL\n/);
    expect(list.stdout).toContain('https://hooks.slack.com/services/T0/B0/***');
    expect(list.stdout).not.toContain('SECRETPART');
    expect(list.stdout).toMatch(
      new RegExp(`${id}\\s+\\(all\\)\\s+webhook\\.added,deployment\\.\\*\\s+gantry\\s+yes`),
    );

    const deliveries = await waitFor(async () => {
      const l = await cli.json<Delivery[]>(['webhooks', 'deliveries', id!, '--json']);
      return l.length === 2 && l.every((d) => d.status === 'succeeded') ? l : undefined;
    }, "its own creation and the Slack webhook's delivered");
    // Newest first: the Slack webhook's creation, then its own.
    expect(deliveries.map((d) => d.event.type)).toEqual(['webhook.added', 'webhook.added']);
    const dlv = deliveries[1]!;
    expect(dlv.attempts[0]).toMatchObject({ number: 1, responseStatus: 200 });
    const table = await cli.run(['webhooks', 'deliveries', id!]);
    expect(table.stdout).toMatch(/^ID\s+EVENT\s+ACTION\s+STATUS\s+ATTEMPTS\s+LAST\s+WHEN\n/);
    expect(table.stdout).toMatch(
      new RegExp(`${dlv.id}\\s+webhook\\.added #\\d+\\s+webhook\\s+succeeded\\s+1/5\\s+200 in \\d+ms`),
    );

    const again = await cli.run(['webhooks', 'redeliver', dlv.id]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(
      new RegExp(`^redelivered ${dlv.id} \\(attempt 2\\) to ${receiver.url}/cli: answered 200 in \\d+ms\\n$`),
    );
    expect(receiver.requests.filter((r) => r.headers['x-gantry-delivery'] === dlv.id)).toHaveLength(2);
    receiver.answer(() => ({ status: 500, body: 'no' }));
    const refused = await cli.run(['webhooks', 'redeliver', dlv.id]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/error: redelivered dlv_\w+ \(attempt 3\) to .*: answered 500 in \d+ms/);
    expect((await cli.run(['webhooks', 'redeliver', 'dlv_nope'])).stderr).toContain('no delivery "dlv_nope"');

    const removed = await cli.run(['webhooks', 'remove', id!]);
    expect(removed.stdout).toBe(`removed webhook ${id} (${receiver.url}/cli) and its delivery log\n`);
    const left = await cli.json<{ id: string }[]>(['webhooks', 'list', '--json']);
    expect(left.map((w) => w.id)).toEqual([slack.id]);
  });

  it('gantry app forge: sets, shows, lists the calls and clears where statuses go, the token read from the environment', async () => {
    const app = await createApp(server, yamlWithSteps(['true']));
    for (const id of app.buildIds) await finishedBuild(server, id);
    const forge = await startReceiver();
    try {
      const none = await cli.run(['app', 'forge', 'shop']);
      expect(none.stdout).toContain(
        'shop: no forge; send its statuses with `gantry app forge shop --provider github',
      );
      const half = await cli.run(['app', 'forge', 'shop', '--provider', 'github']);
      expect(half.code).toBe(1);
      expect(half.stderr).toContain('--provider (github, gitlab or gitea) and --repo are both needed');
      const noToken = await cli.run(['app', 'forge', 'shop', '--provider', 'github', '--repo', 'acme/shop']);
      expect(noToken.code).toBe(1);
      expect(noToken.stderr).toContain('token: required the first time');

      const set = await cli.run(
        [
          'app',
          'forge',
          'shop',
          '--provider',
          'github',
          '--repo',
          'acme/shop',
          '--api-url',
          forge.url,
          '--token-env',
          'GH_TOKEN',
          '--production-env',
          'prod,production',
        ],
        { env: { GH_TOKEN: 'ghp_from_the_env' } },
      );
      expect(set.code, set.stderr).toBe(0);
      expect(set.stdout).toBe(
        `shop: statuses and deployments go to github acme/shop at ${forge.url} (token stored; production: prod, production)\n` +
          'see the calls with `gantry app forge shop --deliveries`\n',
      );
      const shown = await cli.json<{ forge: Record<string, unknown> }>(['app', 'forge', 'shop', '--json']);
      expect(shown.forge).toMatchObject({ provider: 'github', repo: 'acme/shop', token: 'stored' });
      expect(JSON.stringify(shown)).not.toContain('ghp_from_the_env');

      await server.api('POST', '/api/builds', { app: 'shop', rebuild: true });
      const [status] = await forge.waitFor(1);
      expect(status!.url).toMatch(/^\/repos\/acme\/shop\/statuses\/[0-9a-f]{40}$/);
      expect(status!.headers.authorization).toBe('Bearer ghp_from_the_env');
      await forge.waitFor(3);
      const calls = await waitFor(async () => {
        const res = await cli.run(['app', 'forge', 'shop', '--deliveries']);
        return (res.stdout.match(/github\.status\s+succeeded/g) ?? []).length === 3 ? res.stdout : undefined;
      }, 'three statuses listed');
      expect(calls).toMatch(/build\.queued #\d+\s+github\.status\s+succeeded\s+1\/5\s+200 in \d+ms/);

      const cleared = await cli.run(['app', 'forge', 'shop', '--clear']);
      expect(cleared.stdout).toContain('shop: no forge');
    } finally {
      await forge.close();
    }
  });
});
