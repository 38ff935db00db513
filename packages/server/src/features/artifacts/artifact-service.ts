import type { Readable } from 'node:stream';
import type { Artifact } from '@gantry/contracts';
import type { ReleaseArtifact } from '@gantry/driver-api';
import { Conflict, NotFound } from '../../errors.js';
import type { EventStore } from '../../events/event-store.js';
import type { AppRecord } from '../apps/app-store.js';
import type { ArtifactStore } from './artifact-store.js';
import type { BlobStore } from './blob-store.js';
import { type ImageRegistries, referenceParts } from './image-registries.js';

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
    /** Where image artifacts live; without it an image cannot be checked or deployed. */
    private readonly registries?: ImageRegistries,
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

  /** A tarball artifact as a file on this machine, for drivers; an image has none. */
  async localPath(artifact: Artifact): Promise<string> {
    if (artifact.kind === 'image') throw new Conflict(imageHasNoFile(artifact));
    return this.blobs.localPath(artifact.digest);
  }

  /** What a driver gets: the tarball's file, or the image by digest with the registry's pull settings. */
  async releaseArtifact(app: AppRecord, artifact: Artifact): Promise<ReleaseArtifact> {
    if (artifact.kind !== 'image' || !artifact.reference)
      return { path: await this.localPath(artifact), digest: artifact.digest };
    const registry = await this.registries?.forReference(app, artifact.reference);
    return {
      kind: 'image',
      reference: artifact.reference,
      digest: artifact.digest,
      registry: {
        insecure: registry?.config.insecure ?? false,
        ...(registry?.config.auth && { auth: registry.config.auth }),
      },
    };
  }

  /**
   * For an image: that its digest still resolves in its registry, or a Conflict saying it does not
   * (deleted, or the registry cannot be asked). Tarballs pass.
   */
  async checkAvailable(app: AppRecord, artifact: Artifact): Promise<void> {
    if (artifact.kind !== 'image' || !artifact.reference) return;
    const { repository, digest } = referenceParts(artifact.reference);
    const rebuild = `rebuild with \`gantry build ${artifact.sha.slice(0, 12)} --rebuild\``;
    if (!this.registries)
      throw new Conflict(`cannot check image ${artifact.reference}: this server has no registry settings`);
    const found = await (await this.registries.forReference(app, artifact.reference))
      .client()
      .manifestDigest(repository, digest)
      .catch((e: unknown) => {
        throw new Conflict(
          `cannot check that image ${artifact.reference} of ${artifact.sha.slice(0, 12)} still exists: ${e instanceof Error ? e.message : String(e)}`,
        );
      });
    if (found === null)
      throw new Conflict(
        `the image of ${artifact.sha.slice(0, 12)} (${artifact.reference}) was deleted from the registry; ${rebuild}, then deploy again`,
      );
  }

  async open(id: string): Promise<{ artifact: Artifact; stream: Readable }> {
    const artifact = await this.get(id);
    if (artifact.kind === 'image') throw new Conflict(imageHasNoFile(artifact));
    if (artifact.prunedAt || !(await this.blobs.has(artifact.digest))) {
      throw new NotFound(
        `artifact ${id} was pruned; rebuild its commit with \`gantry build ${artifact.sha} --rebuild\``,
      );
    }
    return { artifact, stream: this.blobs.open(artifact.digest) };
  }

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

  /**
   * Prunes artifacts that are no longer current (replaced by a rebuild) or older than the newest
   * `keepPerApp` of their app, unless a retention source (deployments) still needs them. An image is
   * only marked pruned: it stays in its registry, whose own retention (or an operator) deletes it.
   */
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
        if (a.kind !== 'image' && !live.has(a.digest) && (await this.blobs.has(a.digest))) {
          await this.blobs.delete(a.digest);
          freedBytes += a.size;
        }
        await this.events.append({
          type: 'artifact.pruned',
          appId: a.appId,
          subject: a.id,
          actor: opts.actor,
          data: { sha: a.sha, digest: a.digest, kind: a.kind, reference: a.reference },
        });
      }
    }
    return { pruned: candidates, kept: all.length - candidates.length, freedBytes };
  }
}

function imageHasNoFile(a: Artifact): string {
  return `artifact ${a.id} is an image, not a tar.gz: pull it from its registry by digest (\`docker pull ${a.reference}\`)`;
}
