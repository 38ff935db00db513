import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CheckRun, Deployment, GantryEvent } from '@gantry/contracts';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { buildsOf, createApp, finishedBuild } from '../support/app-fixture.js';
import { deployedTo, deploymentDone } from '../support/deploy-fixture.js';
import { engines } from '../support/engines.js';
import { cleanupAll } from '../support/git-fixtures.js';
import { type HttpGate, httpGate, sandboxModes } from '../support/sandbox-fixtures.js';
import { freePort } from '../support/server-process.js';
import { startTestServer, type TestServer, waitFor } from '../support/test-server.js';

afterAll(cleanupAll);

const secret = (what: string) => `${what}-${randomBytes(10).toString('hex')}`;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** Answers /env with its environment and /files/<name> with a file of its release; MODE=crash prints DB_PASSWORD and exits. */
const SERVER_JS = `import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
if (readFileSync(new URL('./MODE', import.meta.url), 'utf8').trim() === 'crash') {
  console.log('cannot start with password ' + process.env.DB_PASSWORD);
  process.exit(1);
}
createServer((req, res) => {
  if (req.url === '/env') return res.end(JSON.stringify(process.env));
  if (req.url.startsWith('/files/')) return res.end(readFileSync(new URL('.' + req.url.slice(6), import.meta.url)));
  res.end('ok');
}).listen(Number(process.env.PORT), '127.0.0.1');
`;

const BUILD_STEP = [
  'mkdir -p dist && cp server.js MODE dist/',
  'echo "token is $BUILD_TOKEN"',
  `printf '%s' "$BUILD_TOKEN" | sha256sum | cut -d' ' -f1 > dist/token.sha`,
  // The value in two writes with a pause between: two chunks of the log.
  `printf 'split: %s' "$(printf %s "$BUILD_TOKEN" | cut -c1-9)"; sleep 0.3; printf '%s\\n' "$(printf %s "$BUILD_TOKEN" | cut -c10-)"`,
  'echo "undeclared=[$OTHER_SECRET] [$DB_PASSWORD]" > dist/undeclared',
].join('\n');

function yaml(ports: { qa: number; staging: number }, stagingSecrets = ''): string {
  return `build:
  steps:
    - name: package
      run: ${JSON.stringify(BUILD_STEP)}
  secrets: [BUILD_TOKEN]
  artifact: { path: dist }
run:
  command: node server.js
  health: { path: /healthz, timeout: 10s }
environments:
  qa:
    auto_deploy: true
    port: ${ports.qa}
    secrets: [DB_PASSWORD]
    checks:
      - { name: env, http: { path: /env } }
      - { name: echo, run: 'curl -fs "$GANTRY_ENV_URL/env"' }
  staging: { auto_deploy: true, port: ${ports.staging}${stagingSecrets} }
`;
}

async function envOf(port: number): Promise<Record<string, string>> {
  return (await fetch(`http://127.0.0.1:${port}/env`).then((r) => r.json())) as Record<string, string>;
}

describe.each(engines)('secrets in builds and deployments ($name)', (engine) => {
  let server: TestServer;
  afterEach(async () => server?.close());

  it('injects only declared secrets, fails without them, and masks them in logs, checks, errors and events', async () => {
    server = await startTestServer(engine);
    const ports = { qa: await freePort(), staging: await freePort() };
    const values = {
      BUILD_TOKEN: secret('build-token'),
      DB_PASSWORD: secret('db-wide'),
      DB_PASSWORD_QA: secret('db-qa'),
      OTHER_SECRET: secret('other'),
    };
    const app = await createApp(server, yaml(ports), { register: false });
    await app.pushFiles({ 'server.js': SERVER_JS, MODE: 'serve' }, 'v0');
    const added = await server.api<{ buildIds: string[] }>('POST', '/api/apps', {
      name: 'shop',
      repoUrl: app.bare.dir,
    });
    expect(added.status).toBe(201);

    // Declared but not set: the build fails before any step, naming it and how to set it.
    const first = await finishedBuild(server, added.body.buildIds[0]!);
    expect(first.status).toBe('failed');
    expect(first.error).toBe(
      'build.secrets lists BUILD_TOKEN, which is not set for shop app-wide (builds get app-wide values only): set it with `gantry secrets set BUILD_TOKEN --app shop`',
    );

    const put = (name: string, value: string, env?: string) =>
      server.api('PUT', `/api/apps/shop/secrets/${name}`, { value, ...(env && { env }) });
    await put('BUILD_TOKEN', values.BUILD_TOKEN);
    await put('DB_PASSWORD', values.DB_PASSWORD);
    await put('DB_PASSWORD', values.DB_PASSWORD_QA, 'qa');
    await put('OTHER_SECRET', values.OTHER_SECRET);

    // A push once they are set: built, then deployed to the auto-deploy environments.
    const v1 = await app.pushFiles({ 'README.md': 'secrets are set now' }, 'v1');
    await server.api('POST', '/api/apps/shop/sync');
    const again = await waitFor(
      async () => (await buildsOf(server)).find((b) => b.sha === v1),
      'a build of v1',
    );
    const built = await finishedBuild(server, again.id);
    expect(built.status, built.error ?? '').toBe('succeeded');
    const log = await fetch(`${server.url}/api/builds/${built.id}/logs`, {
      headers: { authorization: `Bearer ${server.token}` },
    }).then((r) => r.text());
    expect(log).toContain('token is ***\n');
    expect(log).toContain('split: ***\n');
    expect(log).not.toContain(values.BUILD_TOKEN.slice(0, 9));

    // The releases: qa gets its own DB_PASSWORD, staging (which declares none) nothing; no release
    // sees the build's token or the undeclared secret, and the build saw only its own.
    expect((await deployedTo(server, 'qa', v1)).status).toBe('succeeded');
    expect((await deployedTo(server, 'staging', v1)).status).toBe('succeeded');
    const qaEnv = await envOf(ports.qa);
    expect(qaEnv.DB_PASSWORD).toBe(values.DB_PASSWORD_QA);
    for (const name of ['BUILD_TOKEN', 'OTHER_SECRET']) expect(qaEnv).not.toHaveProperty(name);
    const stagingEnv = await envOf(ports.staging);
    for (const name of ['BUILD_TOKEN', 'OTHER_SECRET', 'DB_PASSWORD'])
      expect(stagingEnv).not.toHaveProperty(name);
    const file = (name: string) => fetch(`http://127.0.0.1:${ports.qa}/files/${name}`).then((r) => r.text());
    expect((await file('token.sha')).trim()).toBe(sha256(values.BUILD_TOKEN));
    expect((await file('undeclared')).trim()).toBe('undeclared=[] []');

    // The checks saw the value (the environment's /env answer) and show ***.
    const qaDeployment = (await deployedTo(server, 'qa', v1)).id;
    const checked = await waitFor(async () => {
      const d = (await server.api<Deployment>('GET', `/api/deployments/${qaDeployment}`)).body;
      return d.verification === 'verified' || d.verification === 'check_failed' ? d : undefined;
    }, 'the checks of qa');
    expect(checked.verification).toBe('verified');
    const runs = (await server.api<{ runs: CheckRun[] }>('GET', `/api/deployments/${qaDeployment}/checks`))
      .body.runs;
    expect(runs.map((r) => r.name)).toEqual(['env', 'echo']);
    for (const run of runs) {
      expect(run.output).toContain('"DB_PASSWORD":"***"');
      expect(run.output).not.toContain(values.DB_PASSWORD_QA);
    }

    // A release that prints its secret and exits: the error quotes its log, masked. Staging now
    // declares a secret nobody set: it fails saying which and how to set it.
    const v2 = await app.pushFiles(
      { MODE: 'crash', 'gantry.yaml': yaml(ports, ', secrets: [NOT_SET_ANYWHERE]') },
      'v2',
    );
    await server.api('POST', '/api/apps/shop/sync');
    const crashed = await deployedTo(server, 'qa', v2);
    expect(crashed.status).toBe('failed');
    expect(crashed.error).toContain('cannot start with password ***');
    expect(crashed.error).not.toContain(values.DB_PASSWORD_QA);
    const missing = await deployedTo(server, 'staging', v2);
    expect(missing.status).toBe('failed');
    expect(missing.error).toBe(
      'environments.staging.secrets lists NOT_SET_ANYWHERE, which is not set for shop/staging: set it with `gantry secrets set NOT_SET_ANYWHERE --app shop --env staging` (without --env for every environment)',
    );
    expect(await envOf(ports.qa)).toMatchObject({ DB_PASSWORD: values.DB_PASSWORD_QA });

    const events = (await server.api<GantryEvent[]>('GET', '/api/events?app=shop&limit=1000')).body;
    expect(events.some((e) => e.type === 'deployment.failed' && String(e.data.error).includes('***'))).toBe(
      true,
    );
    const everything = `${JSON.stringify(events)}${log}`;
    for (const value of Object.values(values)) expect(everything).not.toContain(value);
  });
});

/** Host pids whose command line holds `text` anywhere. */
function commandLinesWith(text: string): number[] {
  const found: number[] = [];
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text)) found.push(Number(pid));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

describe.each(sandboxModes)('secrets in a command driver script, sandbox %s', (mode) => {
  let server: TestServer;
  const gates: HttpGate[] = [];
  // Open until the server has stopped: a script still waiting on one would hold its deployment.
  afterEach(async () => {
    for (const g of gates) g.open();
    await server?.close();
    for (const g of gates.splice(0)) await g.close();
  });

  it('gets the value in its environment, never in a command line, and its log and error show ***', async () => {
    server = await startTestServer(undefined, { buildsSandbox: mode });
    const gate = await httpGate();
    // The build waits until the secret is set, so that its deployment finds it.
    const buildGate = await httpGate();
    gates.push(gate, buildGate);
    const token = secret('ops-token');
    const script = [
      'echo "deploying with $OPS_TOKEN"',
      gate.waitCommand(),
      `printf '%s' "$OPS_TOKEN" | sha256sum | cut -d' ' -f1 > token.sha`,
      'echo "giving up on $OPS_TOKEN"',
      'exit 3',
    ].join('\n');
    const yamlText = `build:
  steps: [{ name: package, run: ${JSON.stringify(`${buildGate.waitCommand()}; mkdir -p dist && echo hi > dist/hi`)} }]
  artifact: { path: dist }
environments:
  ops: { auto_deploy: true, driver: command, deploy: ${JSON.stringify(script)}, secrets: [OPS_TOKEN] }
`;
    const app = await createApp(server, yamlText, { register: false });
    const sha = await app.pushFiles({ 'README.md': 'ops' }, 'v1');
    expect((await server.api('POST', '/api/apps', { name: 'shop', repoUrl: app.bare.dir })).status).toBe(201);
    await server.api('PUT', '/api/apps/shop/secrets/OPS_TOKEN', { value: token });
    buildGate.open();
    const log = join(server.dataDir, 'envs', 'shop', 'ops', 'command.log');
    const first = await waitFor(
      async () => (await server.api<Deployment[]>('GET', '/api/deployments?app=shop&env=ops')).body[0],
      'a deployment to ops',
    );
    await waitFor(
      async () =>
        (await readFile(log, 'utf8').catch(() => '')).includes('deploying with') ? true : undefined,
      'the deploy script to start',
    );
    // While the script runs: the value is in no process's command line (bwrap's included).
    expect(commandLinesWith(token)).toEqual([]);
    gate.open();
    const done = await deploymentDone(server, first.id);
    expect(done.sha).toBe(sha);
    expect(done.status).toBe('failed');
    expect(done.error).toContain('giving up on ***');
    expect(done.error).not.toContain(token);
    const written = await readFile(log, 'utf8');
    expect(written).toContain('deploying with ***\n');
    expect(written).not.toContain(token);
    const hash = await readFile(join(server.dataDir, 'envs', 'shop', 'ops', 'token.sha'), 'utf8');
    expect(hash.trim()).toBe(sha256(token));
  });

  it('gives a health script run outside a deployment (the status board) the secrets that are set, masked', async () => {
    server = await startTestServer(undefined, { buildsSandbox: mode });
    const token = secret('health-token');
    const health = [
      `printf '%s' "$OPS_TOKEN" | sha256sum | cut -d' ' -f1 > health.sha`,
      'echo "checked with $OPS_TOKEN and [$NOT_SET_YET]"',
      'exit "$(cat fail 2>/dev/null || echo 0)"',
    ].join('\n');
    const yamlText = `build:
  steps: [{ name: package, run: "mkdir -p dist && echo hi > dist/hi" }]
  artifact: { path: dist }
environments:
  ops:
    driver: command
    deploy: "echo deployed"
    health: ${JSON.stringify(health)}
    secrets: [OPS_TOKEN]
`;
    const app = await createApp(server, yamlText, { register: false });
    const sha = await app.pushFiles({ 'README.md': 'ops' }, 'v1');
    const added = await server.api<{ buildIds: string[] }>('POST', '/api/apps', {
      name: 'shop',
      repoUrl: app.bare.dir,
    });
    expect(added.status).toBe(201);
    await server.api('PUT', '/api/apps/shop/secrets/OPS_TOKEN', { value: token });
    expect((await finishedBuild(server, added.body.buildIds[0]!)).status).toBe('succeeded');
    const asked = await server.api('POST', '/api/apps/shop/deployments', { env: 'ops', ref: sha });
    expect(asked.status).toBeLessThan(300);
    const done = await deployedTo(server, 'ops', sha);
    expect(done.status, done.error ?? '').toBe('succeeded');

    // Outside a deployment: the status board asks the health script, which fails and prints the value.
    const workdir = join(server.dataDir, 'envs', 'shop', 'ops');
    await rm(join(workdir, 'health.sha'));
    await writeFile(join(workdir, 'fail'), '1\n');
    const states = (
      await server.api<{ env: string; health: { healthy: boolean; detail?: string } | null }[]>(
        'GET',
        '/api/apps/shop/environments',
      )
    ).body;
    const ops = states.find((s) => s.env === 'ops')!;
    expect(ops.health?.healthy).toBe(false);
    expect(ops.health?.detail).toContain('checked with *** and []');
    expect(JSON.stringify(states)).not.toContain(token);
    expect((await readFile(join(workdir, 'health.sha'), 'utf8')).trim()).toBe(sha256(token));
  });
});
