import { client, pickApp, qs } from '../context.js';
import { ago, printJson, table } from '../output.js';

interface ClientInstance {
  env: string;
  appName: string;
  instanceId: string;
  sdkVersion: string | null;
  tokenName: string | null;
  lastSeenAt: string;
  fetched: { revision: number; etag: string | null; mode: string | null; at: string | null } | null;
  currentRevision: number;
  behind: boolean | null;
}

/** `gantry toggles clients`: SDK instances seen, and whether they still hold an old revision. */
export async function togglesClients(opts: { app?: string; env?: string; json?: boolean }) {
  const api = await client();
  const app = await pickApp(api, opts.app);
  const list = await api.get<ClientInstance[]>(
    `/api/apps/${encodeURIComponent(app)}/client-instances${qs({ env: opts.env })}`,
  );
  if (opts.json) return printJson(list);
  if (list.length === 0) {
    process.stdout.write(
      `no SDK has connected to ${app}${opts.env ? ` in ${opts.env}` : ''} yet (they show up when they fetch toggles, register or send metrics)\n`,
    );
    return;
  }
  table(
    list.map((c) => ({
      env: c.env,
      'app-name': c.appName,
      instance: c.instanceId,
      sdk: c.sdkVersion ?? '-',
      token: c.tokenName ?? '-',
      'last-seen': ago(c.lastSeenAt),
      revision: c.fetched
        ? `${c.fetched.revision}${c.behind ? ` (behind ${c.currentRevision})` : ' (current)'}`
        : 'never fetched',
      via: c.fetched?.mode ?? '-',
    })),
    ['env', 'app-name', 'instance', 'sdk', 'token', 'last-seen', 'revision', 'via'],
  );
}
