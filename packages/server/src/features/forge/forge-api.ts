import type { ForgeFacts, Happening } from './forge-facts.js';
import type { ForgeSettings } from './forge-settings.js';

/** One call to a forge's REST API; `path` is below the settings' API URL. */
export interface ForgeCall {
  method: 'POST' | 'PUT';
  path: string;
  body: Record<string, unknown>;
}

/**
 * How one provider is told about builds and deployments: which calls a happening makes (in order,
 * delivered one after the other), each call's request, and the id a "create deployment" answers.
 */
export interface ForgeApi {
  /** Call names: `status`, and the provider's deployment calls. */
  actions(h: Happening): string[];
  /** The request, or why there is nothing to send (a string). */
  call(
    action: string,
    f: ForgeFacts,
    s: ForgeSettings,
    remoteDeploymentId: string | undefined,
  ): ForgeCall | string;
  /** The calls whose answer carries the forge's id of a new deployment. */
  createsDeployment(action: string): boolean;
  headers(token: string): Record<string, string>;
}

/** The id in a forge's JSON answer (`{ "id": 42, … }`), as text. */
export function idOf(body: Buffer): string | undefined {
  try {
    const id = (JSON.parse(body.toString('utf8')) as { id?: unknown }).id;
    return typeof id === 'number' || (typeof id === 'string' && id !== '') ? String(id) : undefined;
  } catch {
    return undefined;
  }
}
