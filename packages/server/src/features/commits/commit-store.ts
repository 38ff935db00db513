import type { Commit } from '@gantry/contracts';

export interface NewPush {
  appId: string;
  ref: string;
  beforeSha: string | null;
  afterSha: string;
  forced: boolean;
  source: string;
  commitCount: number;
  dropped: string[];
}

export interface Push extends NewPush {
  id: string;
  createdAt: string;
}

export interface CommitStore {
  recordPush(push: NewPush): Promise<Push>;
  /** Inserts commits not yet known; returns the SHAs that were new. */
  insertMany(commits: Omit<Commit, 'seenAt'>[]): Promise<string[]>;
  list(appId: string, opts?: { limit?: number }): Promise<Commit[]>;
  find(appId: string, sha: string): Promise<Commit | undefined>;
  pushes(appId: string, opts?: { limit?: number }): Promise<Push[]>;
}
