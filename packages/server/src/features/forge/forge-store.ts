import type { ForgeProvider, ForgeSettings } from './forge-settings.js';

/** Forge settings per app, and the forge's ids of the deployments it was told about. */
export interface ForgeStore {
  find(appId: string): Promise<ForgeSettings | undefined>;
  /** The settings of these apps (those that have some). */
  findMany(appIds: string[]): Promise<Map<string, ForgeSettings>>;
  save(s: ForgeSettings): Promise<void>;
  /** False when the app had none. */
  remove(appId: string): Promise<boolean>;
  remoteDeployment(deploymentId: string, provider: ForgeProvider): Promise<string | undefined>;
  /** Keeps the first id given for a deployment (a redelivered create does not replace it). */
  saveRemoteDeployment(r: {
    deploymentId: string;
    provider: ForgeProvider;
    appId: string;
    remoteId: string;
  }): Promise<void>;
}
