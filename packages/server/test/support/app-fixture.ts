import type { Build } from '@gantry/contracts';
import { createRepoWithClone, type WorkClone } from './git-fixtures.js';
import { type TestServer, waitFor } from './test-server.js';

export const FINISHED = ['succeeded', 'failed', 'cancelled', 'interrupted', 'superseded'];

export function yamlWithSteps(steps: string[], extra = ''): string {
  const lines = steps.map((run, i) => `    - name: s${i}\n      run: ${JSON.stringify(run)}`);
  return `build:\n  steps:\n${lines.join('\n')}\n  artifact: { path: . }\n${extra}`;
}

export interface AppFixture {
  bare: { dir: string; url: string };
  work: WorkClone;
  /** Commits the given files and pushes them; returns the new SHA. */
  pushFiles(files: Record<string, string>, message?: string): Promise<string>;
}

/** A bare repo with a first commit holding `gantry.yaml`, registered as app `name`. */
export async function createApp(
  server: TestServer,
  gantryYaml: string,
  opts: { name?: string; register?: boolean; pollIntervalMs?: number } = {},
): Promise<AppFixture & { buildIds: string[] }> {
  const { bare, work } = await createRepoWithClone();
  const pushFiles = async (files: Record<string, string>, message = 'change') => {
    for (const [p, c] of Object.entries(files)) await work.write(p, c);
    return work.commitAndPush(message);
  };
  await pushFiles({ 'gantry.yaml': gantryYaml }, 'first');
  let buildIds: string[] = [];
  if (opts.register !== false) {
    const res = await server.api<{ buildIds: string[] }>('POST', '/api/apps', {
      name: opts.name ?? 'shop',
      repoUrl: bare.dir,
      pollIntervalMs: opts.pollIntervalMs,
    });
    if (res.status !== 201) throw new Error(`app add failed: ${JSON.stringify(res.body)}`);
    buildIds = res.body.buildIds;
  }
  return { bare, work, pushFiles, buildIds };
}

export function finishedBuild(server: TestServer, id: string, ms = 60_000): Promise<Build> {
  return waitFor(
    async () => {
      const { body } = await server.api<Build>('GET', `/api/builds/${id}`);
      return FINISHED.includes(body.status) ? body : undefined;
    },
    `build ${id} to finish`,
    ms,
  );
}

export async function buildsOf(server: TestServer, app = 'shop'): Promise<Build[]> {
  return (await server.api<Build[]>('GET', `/api/builds?app=${app}&limit=500`)).body;
}
