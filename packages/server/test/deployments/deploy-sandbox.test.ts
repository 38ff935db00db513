import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../support/app-fixture.js';
import { deployedTo } from '../support/deploy-fixture.js';
import { cleanupAll } from '../support/git-fixtures.js';
import { sandboxModes } from '../support/sandbox-fixtures.js';
import { freePort } from '../support/server-process.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

const SENTINEL = `sentinel-${randomBytes(8).toString('hex')}`;
const saved = { ...process.env };

/** Answers `/env` with its whole environment. */
const ENV_SERVER_JS = `import { createServer } from 'node:http';
createServer((req, res) => res.end(req.url === '/env' ? JSON.stringify(process.env) : 'ok'))
  .listen(Number(process.env.PORT), '127.0.0.1');
`;

beforeAll(() => {
  process.env.GANTRY_TOKEN = `token-${SENTINEL}`;
  process.env.SECRET_SENTINEL = `env-${SENTINEL}`;
});

afterAll(async () => {
  for (const key of ['GANTRY_TOKEN', 'SECRET_SENTINEL']) {
    if (saved[key] === undefined) delete process.env[key];
    else process.env[key] = saved[key];
  }
  await cleanupAll();
});

describe.each(sandboxModes)('what deployed code sees, sandbox %s', (mode) => {
  let server: TestServer;
  afterEach(async () => server?.close());

  it("a process-driver app and a command-driver script get their config, not the server's secrets", async () => {
    server = await startTestServer(undefined, { buildsSandbox: mode });
    const [appPort, opsPort] = [await freePort(), await freePort()];
    const d = server.dataDir;
    const script = [
      'env',
      `cat ${d}/cli.json`,
      `ls -la ${d} ${d}/repos`,
      // Without a sandbox /proc is the host's, and shows the server's environment: not scrubbed there.
      mode === 'bwrap' ? `for f in /proc/*/environ; do tr '\\0' '\\n' < $f; done` : 'true',
      'tar -tzf "$GANTRY_ARTIFACT"',
    ]
      .map((line) => `${line} || true`)
      .join('; ');
    const yaml = `build:
  steps: [{ name: package, run: "mkdir -p dist && cp server.js dist/" }]
  artifact: { path: dist }
run: { command: node server.js, health: { path: /, timeout: 10s } }
environments:
  qa: { auto_deploy: true, port: ${appPort}, config: { GREETING: hello-qa } }
  ops: { auto_deploy: true, port: ${opsPort}, driver: command, deploy: ${JSON.stringify(script)}, config: { API_KEY: declared } }
`;
    const app = await createApp(server, yaml, { register: false });
    const sha = await app.pushFiles({ 'server.js': ENV_SERVER_JS }, 'v1');
    const added = await server.api('POST', '/api/apps', { name: 'shop', repoUrl: app.bare.dir });
    expect(added.status).toBe(201);

    expect((await deployedTo(server, 'qa', sha)).status).toBe('succeeded');
    const appEnv = (await fetch(`http://127.0.0.1:${appPort}/env`).then((r) => r.json())) as Record<
      string,
      string
    >;
    expect(appEnv).toMatchObject({
      GREETING: 'hello-qa',
      PORT: expect.stringMatching(/^\d+$/),
      PATH: process.env.PATH,
    });
    expect(JSON.stringify(appEnv)).not.toContain(SENTINEL);
    expect(appEnv).not.toHaveProperty('GANTRY_TOKEN');
    expect(appEnv).not.toHaveProperty('SECRET_SENTINEL');
    expect(appEnv).not.toHaveProperty('HOME');

    expect((await deployedTo(server, 'ops', sha)).status).toBe('succeeded');
    const log = await readFile(join(d, 'envs', 'shop', 'ops', 'command.log'), 'utf8');
    expect(log).toContain('API_KEY=declared');
    expect(log).toContain(`GANTRY_SHA=${sha}`);
    expect(log).toMatch(/^server\.js$/m); // the artifact is readable
    expect(log).not.toContain(SENTINEL);
    if (mode === 'bwrap') expect(log).not.toContain(server.token);
  });
});
