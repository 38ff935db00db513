import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Build } from '@gantry/contracts';
import type { DeploymentsTable } from '../packages/server/src/db/schema.js';
import { type BenchServer, git, isFinished, type Scope, sleep } from './support.js';

/** The four environments every board app declares, in promotion order. */
export const ENVIRONMENTS = ['qa', 'staging', 'production', 'demo'] as const;

/**
 * qa deploys each build; the others are promoted down the chain. There is no `run` section, so the
 * auto-deployment of the first build fails at once instead of starting 20 processes and proxies on
 * a shared machine; health then says why for each cell, which costs /api/status what a stopped
 * process would (the driver is asked for every environment that runs something).
 */
const GANTRY_YAML = (app: string) => `app: ${app}
build:
  steps:
    - { name: noop, run: "true" }
  artifact: { path: dist }
environments:
  qa: { auto_deploy: true }
  staging: { promote_from: qa }
  production: { promote_from: staging, protected: true }
  demo: { promote_from: production }
`;

export interface SeededBoard {
  apps: string[];
  deployments: number;
  /** Registering the apps through the API and waiting for their first builds. */
  appsMs: number;
  /** Writing the deployment rows. */
  insertMs: number;
}

/**
 * `apps` apps added through the API, each from a real repo of `commits` commits whose head builds,
 * then `deployments` deployment rows written straight into the table (spread evenly over the
 * apps × environments, one a day back in time), the newest of each environment a success of the
 * head commit: what the board shows as running there.
 */
export async function seedBoard(
  scope: Scope,
  bench: BenchServer,
  opts: { apps: number; deployments: number; commits?: number },
): Promise<SeededBoard> {
  const started = performance.now();
  const apps = Array.from({ length: opts.apps }, (_, i) => `app-${String(i + 1).padStart(2, '0')}`);
  const history = new Map<string, string[]>();
  for (const app of apps) {
    const repo = await createRepo(scope, app, opts.commits ?? 5);
    history.set(app, repo.shas);
    await bench.api('POST', '/api/apps', { name: app, repoUrl: repo.bare });
  }
  // The first builds run one after another on the server's runner; the failed auto-deployments with them.
  for (const app of apps) {
    const head = history.get(app)!.at(-1)!;
    const build = await waitForBuild(bench, app, head);
    if (build.status !== 'succeeded') throw new Error(`the first build of ${app} ${build.status}`);
  }
  await settled(bench);
  const appsMs = performance.now() - started;

  const db = bench.server.gantry.database.db;
  const ids = new Map(
    (await db.selectFrom('apps').select(['id', 'name']).execute()).map((a) => [a.name, a.id] as const),
  );
  const t = performance.now();
  const rows: DeploymentsTable[] = [];
  const cells = apps.flatMap((app) => ENVIRONMENTS.map((env) => ({ app, env })));
  const perCell = Math.ceil(opts.deployments / cells.length);
  const now = Date.now();
  // Oldest first across all cells, so ids (time-ordered) and times agree.
  for (let k = perCell - 1; k >= 0; k--) {
    for (const [c, { app, env }] of cells.entries()) {
      if (rows.length >= opts.deployments) break;
      const shas = history.get(app)!;
      const newest = k === 0;
      const requested = now - (k + 1) * 86_400_000 - c * 60_000;
      const status = newest
        ? 'succeeded'
        : k % 17 === 3
          ? 'failed'
          : k % 29 === 5
            ? 'superseded'
            : 'succeeded';
      const sha = newest ? shas.at(-1)! : shas[k % shas.length]!;
      rows.push(row(ids.get(app)!, env, sha, shas[(k + 1) % shas.length]!, status, requested));
    }
  }
  await db.transaction().execute(async (trx) => {
    for (let i = 0; i < rows.length; i += 500)
      await trx
        .insertInto('deployments')
        .values(rows.slice(i, i + 500))
        .execute();
  });
  return { apps, deployments: rows.length, appsMs, insertMs: performance.now() - t };
}

function row(
  appId: string,
  env: string,
  sha: string,
  previous: string,
  status: string,
  requested: number,
): DeploymentsTable {
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    id: `dep_${requested.toString(16).padStart(12, '0')}0000${randomBytes(3).toString('hex')}`,
    app_id: appId,
    verification: null,
    env,
    sha,
    previous_sha: previous,
    artifact_id: null,
    digest: null,
    trigger: env === 'qa' ? 'auto' : 'api',
    actor: env === 'qa' ? 'gantry' : 'bench',
    reason: null,
    tag: null,
    forced: 0,
    status,
    kind: status === 'superseded' ? null : 'start',
    phases: '[]',
    error: status === 'failed' ? 'health check failed: /healthz answered 500 within 5s' : null,
    runner_id: null,
    requested_at: iso(requested),
    started_at: status === 'superseded' ? null : iso(requested + 200),
    finished_at: iso(requested + 30_000),
    remediates: null,
  };
}

/** A bare repo of `commits` commits (gantry.yaml and a tiny dist/); its SHAs oldest first. */
async function createRepo(scope: Scope, app: string, commits: number) {
  const root = await scope.tempDir('console-git');
  const bare = join(root, 'repo.git');
  const work = join(root, 'work');
  await git(['init', '--quiet', '--bare', '--initial-branch=main', bare]);
  await git(['init', '--quiet', '--initial-branch=main', work]);
  await git(['remote', 'add', 'origin', bare], work);
  const write = async (path: string, text: string) => {
    await mkdir(dirname(join(work, path)), { recursive: true });
    await writeFile(join(work, path), text);
  };
  await write('gantry.yaml', GANTRY_YAML(app));
  await write('dist/index.html', '<!doctype html><title>bench</title>\n');
  const shas: string[] = [];
  for (let n = 1; n <= commits; n++) {
    await write('dist/build.txt', `${n}\n`);
    await git(['add', '--all'], work);
    await git(
      ['commit', '--quiet', '--no-verify', '-m', `Change ${n} of ${app}\n\nA commit for the board.`],
      work,
    );
    shas.push((await git(['rev-parse', 'HEAD'], work)).stdout.trim());
  }
  await git(['push', '--quiet', 'origin', 'main'], work);
  return { bare, shas };
}

async function waitForBuild(bench: BenchServer, app: string, sha: string): Promise<Build> {
  const until = Date.now() + 120_000;
  for (;;) {
    const [build] = await bench.api<Build[]>('GET', `/api/builds?app=${app}&sha=${sha}`);
    if (build && isFinished(build)) return build;
    if (Date.now() > until) throw new Error(`timed out waiting for the first build of ${app}`);
    await sleep(100);
  }
}

/** Until no deployment is queued or running (the auto-deployments of the first builds). */
async function settled(bench: BenchServer): Promise<void> {
  const db = bench.server.gantry.database.db;
  const until = Date.now() + 60_000;
  for (;;) {
    const busy = await db
      .selectFrom('deployments')
      .select('id')
      .where('status', 'in', ['queued', 'running'])
      .executeTakeFirst();
    if (!busy) return;
    if (Date.now() > until) throw new Error('the first auto-deployments did not finish within 60 s');
    await sleep(100);
  }
}
