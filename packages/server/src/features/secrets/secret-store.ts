import type { Sealed } from './secret-cipher.js';

/** A secret as stored: its value sealed with the key `keyId`. */
export interface SecretRecord extends Sealed {
  id: string;
  appId: string;
  /** '' for the app-wide value. */
  env: string;
  name: string;
  keyId: string;
  createdAt: string;
  updatedAt: string;
  updatedBy: string;
}

/** An app's secrets, one row per app, environment ('' app-wide) and name. */
export interface SecretStore {
  /** The app's secrets, by name, app-wide before an environment's. */
  list(appId: string): Promise<SecretRecord[]>;
  /** The secrets set for these environments ('' app-wide) of the app. */
  forEnvironments(appId: string, envs: string[]): Promise<SecretRecord[]>;
  /** Inserts or replaces the value; true when it was new. */
  save(r: Omit<SecretRecord, 'id' | 'createdAt'>): Promise<boolean>;
  /** False when there was none. */
  remove(appId: string, env: string, name: string): Promise<boolean>;
  /** Up to `limit` secrets sealed with another key than `keyId`. */
  notUnder(keyId: string, limit: number): Promise<SecretRecord[]>;
  /**
   * Replaces a value's sealing, guarded: only while the row still holds `was` (a value set meanwhile
   * is already sealed with the current key and stays as it is). True when it replaced it.
   */
  reseal(id: string, was: Sealed & { keyId: string }, next: Sealed & { keyId: string }): Promise<boolean>;
  /** How many secrets each key seals. */
  countByKey(): Promise<Map<string, number>>;
}
