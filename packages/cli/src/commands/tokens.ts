import { client, pickApp } from '../context.js';
import { printJson } from '../output.js';

interface ClientToken {
  id: string;
  token: string;
  app: string;
  env: string;
}

/** `gantry tokens create`: an SDK client token `<app>:<env>.<secret>`, printed once. */
export async function tokensCreate(opts: { app?: string; env: string; json?: boolean }): Promise<void> {
  const api = await client();
  const app = await pickApp(api, opts.app);
  const res = await api.post<ClientToken>(`/api/apps/${encodeURIComponent(app)}/client-tokens`, {
    env: opts.env,
  });
  if (opts.json) return printJson(res);
  process.stdout.write(`${res.token}\n`);
  process.stderr.write(
    `client token ${res.id} for ${res.app} in ${res.env} created; it is shown only now. SDKs send it as the Authorization header.\n`,
  );
}
