import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ConformanceFixture } from '@gantry/driver-api/conformance';
import { createCommandDriver } from '../../../src/drivers/command/command-driver.js';
import type { Sandbox } from '../../../src/sandbox/host-sandbox.js';
import { makeSampleArtifact, servingVersion, shaOf } from '../../support/driver-fixtures.js';
import { freePort } from '../../support/server-process.js';

const run = promisify(execFile);

/**
 * A deploy target outside the sandbox, as helm or an ssh host would be: `POST /deploy` unpacks the
 * artifact it names and starts `node server.js` on the port (stopping what ran), `POST /stop` stops
 * it. A sandboxed script cannot leave a process behind (its pid namespace ends with it), so the
 * scripts only call this agent, over loopback.
 */
async function startAgent() {
  let app: ChildProcess | null = null;
  const stopApp = async () => {
    const child = app;
    app = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://agent');
    const q = (name: string) => url.searchParams.get(name) ?? '';
    const answer = async () => {
      if (url.pathname === '/stop') {
        await stopApp();
        return 'stopped';
      }
      if (url.pathname !== '/deploy') throw new Error(`unknown ${url.pathname}`);
      await stopApp();
      const dest = join(q('dir'), 'releases', q('sha'));
      await rm(dest, { recursive: true, force: true });
      await mkdir(dest, { recursive: true });
      await run('tar', ['-xzf', q('artifact'), '-C', dest]);
      app = spawn(process.execPath, ['server.js'], {
        cwd: dest,
        env: { PATH: process.env.PATH, PORT: q('port') },
        stdio: 'ignore',
      });
      return `started ${q('sha')} as pid ${app.pid}`;
    };
    answer().then(
      (text) => res.end(`${text}\n`),
      (err: Error) => res.writeHead(500).end(`${err.message}\n`),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    async close() {
      await stopApp();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** The command driver in `sandbox`, its scripts in the environment's workdir, deploying through the agent. */
export function commandAgentFixture(sandbox: Sandbox): ConformanceFixture {
  const dirs: string[] = [];
  const agents: { close(): Promise<void> }[] = [];
  let releases = 0;
  return {
    createDriver: () => createCommandDriver({ pollIntervalMs: 100, sandbox }),
    async makeEnv(workdir) {
      const agent = await startAgent();
      agents.push(agent);
      const call = (path: string) => `curl -fsS -X POST "http://127.0.0.1:${agent.port}${path}"`;
      const scripts = join(workdir, 'scripts');
      await mkdir(scripts, { recursive: true });
      const script = async (name: string, body: string) => {
        await writeFile(join(scripts, name), `#!/bin/sh\nset -eu\n${body}`);
        await chmod(join(scripts, name), 0o755);
        return `'${join(scripts, name)}'`;
      };
      const deploy = call(
        '/deploy?sha=$GANTRY_SHA&artifact=$GANTRY_ARTIFACT&port=$GANTRY_PORT&dir=$GANTRY_WORKDIR',
      );
      return {
        app: 'sample',
        name: 'qa',
        port: await freePort(),
        config: {},
        standby: 1,
        run: { command: 'node server.js', portEnv: 'PORT', health: { path: '/healthz', timeoutMs: 3_000 } },
        commands: {
          deploy: await script(
            'deploy.sh',
            `${deploy}\necho "$GANTRY_SHA" > "$GANTRY_WORKDIR/serving.sha"\n`,
          ),
          health: await script(
            'health.sh',
            'curl -fsS --max-time 2 "http://127.0.0.1:$GANTRY_PORT/healthz"\necho\ncat "$GANTRY_WORKDIR/serving.sha"\n',
          ),
          stop: await script('stop.sh', `${call('/stop')}\nrm -f "$GANTRY_WORKDIR/serving.sha"\n`),
        },
      };
    },
    async makeRelease(env, version, opts) {
      const dir = await mkdtemp(join(tmpdir(), 'gantry-command-artifacts-'));
      dirs.push(dir);
      const artifact = await makeSampleArtifact(dir, version, opts);
      releases += 1;
      return { env, sha: shaOf(version), deploymentId: `dep_${releases}_${version}`, artifact };
    },
    serving: (env) => servingVersion(env.port),
    async cleanup() {
      await Promise.all(agents.splice(0).map((agent) => agent.close()));
      await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
    },
  };
}
