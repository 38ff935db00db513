import { ApiClient } from './api-client.js';
import { resolveTarget } from './cli-config.js';

/** Thrown for failures the user can act on; main prints the message and exits non-zero. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export async function client(): Promise<ApiClient> {
  // "No server configured" and "config.json is not valid JSON" are for the user, not a stack trace.
  const target = await resolveTarget().catch((e: unknown) => {
    throw new CliError(e instanceof Error ? e.message : String(e));
  });
  return new ApiClient(target);
}

/** `--app` when given; otherwise the only app there is. */
export async function pickApp(api: ApiClient, app: string | undefined): Promise<string> {
  if (app) return app;
  const apps = await api.get<{ name: string }[]>('/api/apps');
  if (apps.length === 1) return apps[0]!.name;
  if (apps.length === 0) throw new CliError('no apps yet: add one with `gantry app add <name> <repo>`');
  throw new CliError(`several apps exist (${apps.map((a) => a.name).join(', ')}): pass --app <name>`);
}

export function qs(params: Record<string, string | number | boolean | undefined>): string {
  const entries = Object.entries(params).filter(([, v]) => v !== undefined && v !== '') as [string, string][];
  return entries.length
    ? `?${new URLSearchParams(entries.map(([k, v]): [string, string] => [k, String(v)])).toString()}`
    : '';
}
