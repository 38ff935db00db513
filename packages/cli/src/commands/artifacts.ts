import type { Artifact } from '@gantry/contracts';
import type { ApiClient } from '../api-client.js';
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
      kind: a.kind,
      digest: a.digest.slice(0, 19),
      reference: whereItIs(a),
      size: bytes(a.size),
      build: a.buildId,
      created: ago(a.createdAt),
      state: a.prunedAt ? 'pruned' : a.current ? 'current' : 'replaced',
    })),
    ['id', 'app', 'sha', 'kind', 'digest', 'reference', 'size', 'build', 'created', 'state'],
  );
}

/** An image by its reference (always by digest); a tarball by its file in the server's data dir. */
export function whereItIs(a: Pick<Artifact, 'kind' | 'digest' | 'reference'>): string {
  if (a.kind === 'image' && a.reference) return a.reference;
  return `artifacts/sha256/${a.digest.replace(/^sha256:/, '')}.tar.gz`;
}

/** A reference short enough for a table: `<registry>/<repository>@sha256:<12 hex>`. */
export function shortReference(reference: string | null | undefined): string {
  if (!reference) return '';
  return reference.replace(/@sha256:([0-9a-f]{12})[0-9a-f]+$/, '@sha256:$1');
}

/** The image reference of each artifact id among these, for status and history (tarballs have none). */
export async function imageReferences(api: ApiClient, apps: string[]): Promise<Map<string, string>> {
  const refs = new Map<string, string>();
  for (const app of new Set(apps)) {
    const list = await api
      .get<Artifact[]>(`/api/artifacts${qs({ app, limit: '1000', includePruned: 'true' })}`)
      .catch(() => [] as Artifact[]);
    for (const a of list) if (a.kind === 'image' && a.reference) refs.set(a.id, a.reference);
  }
  return refs;
}

export async function pruneCommand(opts: { keep?: string; dryRun?: boolean; json?: boolean }) {
  const res = await (await client()).post<{ pruned: Artifact[]; kept: number; freedBytes: number }>(
    '/api/artifacts/prune',
    { keepPerApp: opts.keep === undefined ? undefined : Number(opts.keep), dryRun: Boolean(opts.dryRun) },
  );
  if (opts.json) return printJson(res);
  for (const a of res.pruned)
    process.stdout.write(
      `${opts.dryRun ? 'would prune' : 'pruned'} ${a.id} ${a.app} ${short(a.sha)}${a.kind === 'image' ? ` (image ${a.reference}: it stays in its registry)` : ''}\n`,
    );
  process.stdout.write(`${res.pruned.length} pruned, ${res.kept} kept, ${bytes(res.freedBytes)} freed\n`);
}
