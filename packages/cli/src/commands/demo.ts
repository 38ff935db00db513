import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Artifact, Build } from '@gantry/contracts';
import { installPostReceiveHook, loadServerConfig, startServer } from '@gantry/server';
import pino from 'pino';
import { ApiClient } from '../api-client.js';
import { CliError } from '../context.js';
import { sampleAppFiles } from '../demo/sample-app.js';
import { duration, short } from '../output.js';
import { artifactsCommand } from './artifacts.js';
import { buildsCommand, followBuild } from './build.js';

const run = promisify(execFile);
const GIT_ID = [
  '-c',
  'user.name=Gantry Demo',
  '-c',
  'user.email=demo@gantry.local',
  '-c',
  'init.defaultBranch=main',
];

function say(text: string): void {
  process.stdout.write(`\n▸ ${text}\n`);
}

async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout, stderr } = await run('git', [...GIT_ID, ...args], { cwd });
  return `${stdout}${stderr}`.trim();
}

async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
}

/**
 * The whole flow on a sample app, with embedded defaults: a bare repository, a server on SQLite,
 * two pushes, their builds and artifacts. Everything lives in one temp folder.
 */
export async function demoCommand(opts: { keep?: boolean }): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'gantry-demo-'));
  const bare = join(root, 'hello.git');
  const work = join(root, 'hello');
  await mkdir(work);
  say(`Sample app "hello" (a Node HTTP service with /healthz and a test) in ${root}`);
  await git(root, 'init', '--quiet', '--bare', bare);
  await git(work, 'init', '--quiet');
  await git(work, 'remote', 'add', 'origin', bare);

  const { config } = loadServerConfig({ dataDir: join(root, 'data'), port: 0, defaultPollIntervalMs: 0 }, {});
  const server = await startServer(config, { logger: pino({ level: 'warn' }) });
  process.env.GANTRY_URL = server.url;
  process.env.GANTRY_TOKEN = server.adminToken;
  const api = new ApiClient({ url: server.url, token: server.adminToken!, source: 'demo' });
  say(`Gantry server on ${server.url} (SQLite in ${config.dataDir})`);

  try {
    await writeFiles(work, sampleAppFiles(1));
    await git(work, 'add', '-A');
    await git(work, 'commit', '--quiet', '-m', 'Sample service with /healthz');
    await git(work, 'push', '--quiet', 'origin', 'main');
    say('gantry app add hello <repo>   (mirrors the repository and builds its head)');
    const app = await api.post<{ headSha: string; buildIds: string[] }>('/api/apps', {
      name: 'hello',
      repoUrl: bare,
    });
    const first = await followBuild(api, app.buildIds[0]!, true);
    if (first.status !== 'succeeded') throw new CliError(`the first build ${first.status}: ${first.error}`);

    say('gantry hook install <repo> --app hello   (a push now starts a build at once)');
    const { token } = await api.post<{ token: string }>('/api/apps/hello/hook-token');
    await installPostReceiveHook(bare, { serverUrl: server.url, app: 'hello', token });

    await writeFiles(work, sampleAppFiles(2));
    await git(work, 'commit', '--quiet', '-am', 'Say hello from version 2');
    const sha = await git(work, 'rev-parse', 'HEAD');
    say(`git push   (${short(sha)})`);
    process.stdout.write(`${await git(work, 'push', 'origin', 'main')}\n`);
    const pushed = Date.now();
    const second = await waitForBuildOf(api, sha);
    process.stdout.write(
      `build ${second.id} queued ${duration(Math.max(0, Date.parse(second.queuedAt) - pushed))} after git push returned\n`,
    );
    const done = await followBuild(api, second.id, true);
    if (done.status !== 'succeeded') throw new CliError(`the second build ${done.status}: ${done.error}`);

    say('gantry builds');
    await buildsCommand({ app: 'hello' });
    say('gantry artifacts');
    await artifactsCommand({ app: 'hello' });

    const artifact = await api.get<Artifact>(`/api/artifacts/${done.artifactId}`);
    const bytes = Buffer.from(
      await (
        await fetch(`${server.url}/api/artifacts/${artifact.id}/download`, {
          headers: { authorization: `Bearer ${server.adminToken}` },
        })
      ).arrayBuffer(),
    );
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    say(`The artifact's bytes hash to its digest: ${digest === artifact.digest ? 'yes' : 'NO'} (${digest})`);
    const again = await api.post<{ kind: string }>('/api/builds', { app: 'hello', ref: sha });
    say(`gantry build ${short(sha)}   → ${again.kind}: a SHA is built once, never again`);
    say('Next (issue 3): environments, deploy by tag, rollback. Try `gantry --help`.');
    if (opts.keep) {
      process.stdout.write(
        `\nServer still running on ${server.url}; GANTRY_URL=${server.url} GANTRY_TOKEN=${server.adminToken}\n`,
      );
      await new Promise<void>((resolve) => process.once('SIGINT', resolve));
    }
  } finally {
    await server.stop();
  }
}

async function waitForBuildOf(api: ApiClient, sha: string): Promise<Build> {
  const until = Date.now() + 30_000;
  while (Date.now() < until) {
    const builds = await api.get<Build[]>(`/api/builds?app=hello&sha=${sha}`);
    if (builds[0]) return builds[0];
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new CliError('no build appeared 30 s after the push: is the post-receive hook executable?');
}
