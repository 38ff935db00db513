import type { Artifact } from '@gantry/contracts';
import { client, qs } from '../context.js';
import { ago, bytes, printJson, short, table } from '../output.js';

export async function artifactsCommand(opts: { app?: string; sha?: string; all?: boolean; json?: boolean }) {
  const list = await (await client()).get<Artifact[]>(
    `/api/artifacts${qs({ app: opts.app, sha: opts.sha, includePruned: opts.all ? 'true' : undefined })}`,
  );
  if (opts.json) return printJson(list);
  table(
    list.map((a) => ({
      id: a.id,
      app: a.app,
      sha: short(a.sha),
      digest: a.digest.slice(0, 19),
      size: bytes(a.size),
      build: a.buildId,
      created: ago(a.createdAt),
      state: a.prunedAt ? 'pruned' : a.current ? 'current' : 'replaced',
    })),
    ['id', 'app', 'sha', 'digest', 'size', 'build', 'created', 'state'],
  );
}

export async function pruneCommand(opts: { keep?: string; dryRun?: boolean; json?: boolean }) {
  const res = await (await client()).post<{ pruned: Artifact[]; kept: number; freedBytes: number }>(
    '/api/artifacts/prune',
    { keepPerApp: opts.keep === undefined ? undefined : Number(opts.keep), dryRun: Boolean(opts.dryRun) },
  );
  if (opts.json) return printJson(res);
  for (const a of res.pruned)
    process.stdout.write(`${opts.dryRun ? 'would prune' : 'pruned'} ${a.id} ${a.app} ${short(a.sha)}\n`);
  process.stdout.write(`${res.pruned.length} pruned, ${res.kept} kept, ${bytes(res.freedBytes)} freed\n`);
}
