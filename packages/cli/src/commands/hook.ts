import { installPostReceiveHook } from '@gantry/server';
import { client } from '../context.js';
import { printJson } from '../output.js';

export async function hookInstall(repo: string, opts: { app: string; url?: string; json?: boolean }) {
  const api = await client();
  await api.get(`/api/apps/${encodeURIComponent(opts.app)}`);
  const { token } = await api.post<{ token: string }>(`/api/apps/${encodeURIComponent(opts.app)}/hook-token`);
  const serverUrl = opts.url ?? api.target.url;
  const installed = await installPostReceiveHook(repo, { serverUrl, app: opts.app, token });
  if (opts.json) return printJson(installed);
  process.stdout.write(
    `Installed ${installed.hookPath}: each push now tells ${serverUrl} at once (token role: hook)\n` +
      (installed.preservedHook ? `Your previous hook still runs first: ${installed.preservedHook}\n` : ''),
  );
}
