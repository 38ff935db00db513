import type { App, AppRegistry } from '@gantry/contracts';

export interface NewApp {
  id: string;
  name: string;
  repoUrl: string;
  branch: string;
  webhookSecret: string;
  pollIntervalMs: number;
}

export interface AppRecord extends App {
  webhookSecret: string;
  /** Set once the app was removed with its history kept; such an app is found by id only. */
  removedAt?: string | null;
  /** Where this app's images go instead of the server's registry (admin-set; never from gantry.yaml). */
  registry?: AppRegistry | null;
}

export interface AppStore {
  insert(app: NewApp): Promise<AppRecord>;
  /** Apps not removed. */
  list(): Promise<AppRecord[]>;
  /** Apps not removed. */
  findByName(name: string): Promise<AppRecord | undefined>;
  /** Removed apps too (their history still points at them). */
  findById(id: string): Promise<AppRecord | undefined>;
  /** Marks the app removed and frees its name for a new app; false when it was removed already. */
  markRemoved(app: { id: string; name: string }): Promise<boolean>;
  /** Sets the app's own registry, or clears it (null) so the server's is used. */
  setRegistry(id: string, registry: AppRegistry | null): Promise<void>;
  /** Moves the recorded head only if it is still `expected`; false when another writer won. */
  moveHead(id: string, expected: string | null, next: string): Promise<boolean>;
}
