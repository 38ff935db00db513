import type { Readable } from 'node:stream';
import type { Artifact } from '@gantry/contracts';
import { NotFound } from '../../errors.js';
import type { EventStore } from '../../events/event-store.js';
import type { ArtifactStore } from './artifact-store.js';
import type { BlobStore } from './blob-store.js';

/** Artifact ids that something else still needs (deployments keep what environments run or ran). */
export type RetentionSource = () => Promise<Set<string>>;

export interface PruneResult {
  pruned: Artifact[];
  kept: number;
  freedBytes: number;
}

export class ArtifactService {
  private readonly retention: RetentionSource[] = [];

  constructor(
    private readonly store: ArtifactStore,
    private readonly blobs: BlobStore,
    private readonly events: EventStore,
  ) {}

  addRetention(source: RetentionSource): void {
    this.retention.push(source);
  }

  list(q: { appId?: string; sha?: string; limit?: number; includePruned?: boolean }): Promise<Artifact[]> {
    return this.store.list(q);
  }

  async get(id: string): Promise<Artifact> {
    const a = await this.store.find(id);
    if (!a) throw new NotFound(`no artifact "${id}"; list them with \`gantry artifacts\``);
    return a;
  }

  findCurrent(appId: string, sha: string): Promise<Artifact | undefined> {
    return this.store.findCurrent(appId, sha);
  }

  /** The artifact as a file on this machine, for drivers. */
  async localPath(artifact: Artifact): Promise<string> {
    return this.blobs.localPath(artifact.digest);
  }

  async open(id: string): Promise<{ artifact: Artifact; stream: Readable }> {
    const artifact = await this.get(id);
    if (artifact.prunedAt || !(await this.blobs.has(artifact.digest))) {
      throw new NotFound(
        `artifact ${id} was pruned; rebuild its commit with \`gantry build ${artifact.sha} --rebuild\``,
      );
    }
    return { artifact, stream: this.blobs.open(artifact.digest) };
  }

  /**
   * Prunes artifacts that are no longer current (replaced by a rebuild) or older than the newest
   * `keepPerApp` of their app, unless a retention source (deployments) still needs them.
   */
  /** Deletes the blobs of these digests that no live artifact row uses any more (after an app's purge). */
  async deleteUnusedBlobs(digests: Iterable<string>): Promise<number> {
    const live = await this.store.liveDigests();
    let deleted = 0;
    for (const digest of new Set(digests)) {
      if (live.has(digest) || !(await this.blobs.has(digest))) continue;
      await this.blobs.delete(digest);
      deleted++;
    }
    return deleted;
  }

  async prune(opts: { keepPerApp?: number; actor: string; dryRun?: boolean }): Promise<PruneResult> {
    const keepPerApp = opts.keepPerApp ?? 20;
    const kept = new Set<string>();
    for (const source of this.retention) for (const id of await source()) kept.add(id);
    const all = await this.store.list({ limit: 100_000 });
    const seenPerApp = new Map<string, number>();
    const candidates: Artifact[] = [];
    for (const a of all) {
      const rank = (seenPerApp.get(a.appId) ?? 0) + (a.current ? 1 : 0);
      seenPerApp.set(a.appId, rank);
      if (kept.has(a.id)) continue;
      if (!a.current || rank > keepPerApp) candidates.push(a);
    }
    let freedBytes = 0;
    if (!opts.dryRun) {
      for (const a of candidates) await this.store.markPruned(a.id);
      const live = await this.store.liveDigests();
      for (const a of candidates) {
        if (!live.has(a.digest) && (await this.blobs.has(a.digest))) {
          await this.blobs.delete(a.digest);
          freedBytes += a.size;
        }
        await this.events.append({
          type: 'artifact.pruned',
          appId: a.appId,
          subject: a.id,
          actor: opts.actor,
          data: { sha: a.sha, digest: a.digest },
        });
      }
    }
    return { pruned: candidates, kept: all.length - candidates.length, freedBytes };
  }
}
