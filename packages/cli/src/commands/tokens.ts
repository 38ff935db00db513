import { CliError, client, pickApp } from '../context.js';
import { printJson } from '../output.js';

interface ClientToken {
  id: string;
  token: string;
  app: string;
  env: string;
  kind?: string;
}

/** `gantry tokens create`: an SDK token `<app>:<env>.<secret>` (client or frontend), printed once. */
export async function tokensCreate(opts: {
  app?: string;
  env: string;
  kind?: string;
  json?: boolean;
}): Promise<void> {
  const kind = opts.kind ?? 'client';
  if (kind !== 'client' && kind !== 'frontend') {
    throw new CliError(
      `--kind ${kind}: expected client (server-side SDKs, OFREP) or frontend (the Frontend API)`,
    );
  }
  const api = await client();
  const app = await pickApp(api, opts.app);
  const res = await api.post<ClientToken>(`/api/apps/${encodeURIComponent(app)}/client-tokens`, {
    env: opts.env,
    kind,
  });
  if (opts.json) return printJson(res);
  process.stdout.write(`${res.token}\n`);
  const where = kind === 'frontend' ? 'browser and mobile SDKs send it to /api/frontend' : 'SDKs send it';
  process.stderr.write(
    `${kind} token ${res.id} for ${res.app} in ${res.env} created; it is shown only now. ${where} as the Authorization header.\n`,
  );
}
