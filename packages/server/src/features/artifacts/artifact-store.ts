import type { Artifact, ArtifactKind } from '@gantry/contracts';
import type { Db } from '../../db/database.js';

export interface NewArtifact {
  appId: string;
  sha: string;
  /** Default `tarball`. */
  kind?: ArtifactKind;
  digest: string;
  /** Images: `<registry>/<repository>@sha256:…`. */
  reference?: string | null;
  size: number;
  buildId: string;
}

export interface ArtifactStore {
  /**
   * Inserts the artifact as the current one for its SHA; an earlier one stays, no longer current.
   * `within`: a transaction of the caller's to write (and read it back) in, else one of its own.
   */
  insertCurrent(a: NewArtifact, within?: Db): Promise<Artifact>;
  findCurrent(appId: string, sha: string): Promise<Artifact | undefined>;
  find(id: string): Promise<Artifact | undefined>;
  list(q: { appId?: string; sha?: string; limit?: number; includePruned?: boolean }): Promise<Artifact[]>;
  markPruned(id: string): Promise<void>;
  /** Digests of tarballs still referenced by an artifact that is not pruned. */
  liveDigests(): Promise<Set<string>>;
}
