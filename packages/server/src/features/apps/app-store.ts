import type { App } from '@gantry/contracts';

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
}

export interface AppStore {
  insert(app: NewApp): Promise<AppRecord>;
  list(): Promise<AppRecord[]>;
  findByName(name: string): Promise<AppRecord | undefined>;
  findById(id: string): Promise<AppRecord | undefined>;
  /** Moves the recorded head only if it is still `expected`; false when another writer won. */
  moveHead(id: string, expected: string | null, next: string): Promise<boolean>;
}
