import type { App } from '@gantry/contracts';
import { confirmOnTerminal } from '../confirm.js';
import { CliError, client } from '../context.js';
import { ago, printJson, safeText, short, table } from '../output.js';

export async function appAdd(
  name: string,
  repo: string,
  opts: { branch?: string; poll?: string; json?: boolean },
): Promise<void> {
  const api = await client();
  const app = await api.post<App & { webhookSecret: string; buildIds: string[] }>('/api/apps', {
    name,
    repoUrl: repo,
    branch: opts.branch,
    pollIntervalMs: opts.poll === undefined ? undefined : Math.round(Number(opts.poll) * 1000),
  });
  if (opts.json) return printJson(app);
  process.stdout.write(
    `Added app ${app.name} (${app.repoUrl}, branch ${app.branch}); head ${short(app.headSha) || '(empty)'}\n` +
      (app.buildIds.length
        ? `Queued build ${app.buildIds.join(', ')}; follow it with \`gantry logs -f ${app.buildIds[0]}\`\n`
        : '') +
      `Webhook secret: ${app.webhookSecret}\n` +
      `For instant builds on push to a local bare repo: gantry hook install <repo.git> --app ${app.name}\n`,
  );
}

export async function appList(opts: { json?: boolean }): Promise<void> {
  const apps = await (await client()).get<App[]>('/api/apps');
  if (opts.json) return printJson(apps);
  table(
    apps.map((a) => ({
      name: a.name,
      branch: a.branch,
      head: short(a.headSha),
      poll: a.pollIntervalMs ? `${a.pollIntervalMs / 1000}s` : 'off',
      added: ago(a.createdAt),
      repo: a.repoUrl,
    })),
    ['name', 'branch', 'head', 'poll', 'added', 'repo'],
  );
}

export async function appSecret(name: string, opts: { json?: boolean }): Promise<void> {
  const res = await (await client()).get<{ webhookSecret: string }>(
    `/api/apps/${encodeURIComponent(name)}/webhook-secret`,
  );
  if (opts.json) return printJson(res);
  process.stdout.write(`${res.webhookSecret}\n`);
}

interface RemovedApp {
  app: string;
  purged: boolean;
  stoppedEnvironments: string[];
  cancelledBuilds: string[];
}

/** `gantry app remove <app>`: asks first on a terminal; --yes skips the question (needed without one). */
export async function appRemove(
  name: string,
  opts: { stopEnvironments?: boolean; purge?: boolean; yes?: boolean; json?: boolean },
): Promise<void> {
  const api = await client();
  await api.get(`/api/apps/${encodeURIComponent(name)}`);
  if (!opts.yes) {
    const what =
      `Remove app ${name}` +
      (opts.stopEnvironments ? ', stopping its environments' : '') +
      (opts.purge ? ' and deleting its history (deployments, builds, events, metrics)' : '');
    await confirmOnTerminal(`${what}?`, {
      hint: `removing app "${name}" needs confirmation: pass --yes to remove it without a prompt`,
      declined: 'not confirmed; nothing was removed',
    });
  }
  const query = new URLSearchParams();
  if (opts.stopEnvironments) query.set('stopEnvironments', 'true');
  if (opts.purge) query.set('purge', 'true');
  const q = query.size ? `?${query}` : '';
  const res = await api.delete<RemovedApp>(`/api/apps/${encodeURIComponent(name)}${q}`);
  if (opts.json) return printJson(res);
  process.stdout.write(
    `Removed app ${res.app}` +
      (res.stoppedEnvironments.length ? `; stopped ${res.stoppedEnvironments.join(', ')}` : '') +
      (res.cancelledBuilds.length ? `; cancelled builds ${res.cancelledBuilds.join(', ')}` : '') +
      (res.purged ? '; its history was deleted' : '; its history (deployments, builds, events) stays') +
      '\n',
  );
}

interface RegistryAnswer {
  registry: {
    url: string;
    insecure: boolean;
    username: string | null;
    passwordEnv: string | null;
    passwordFile: string | null;
  } | null;
}

/**
 * `gantry app registry <name> [url]`: shows, sets or (with --clear) forgets where the app's images go.
 * The password is only ever named: a variable of the server's environment or a file on the server.
 */
export async function appRegistry(
  name: string,
  url: string | undefined,
  opts: {
    insecure?: boolean;
    username?: string;
    passwordEnv?: string;
    passwordFile?: string;
    clear?: boolean;
    json?: boolean;
  },
): Promise<void> {
  const api = await client();
  const path = `/api/apps/${encodeURIComponent(name)}/registry`;
  if (opts.clear && url) throw new CliError('give a registry or --clear, not both');
  const res = opts.clear
    ? await api.delete<RegistryAnswer>(path)
    : url
      ? await api.put<RegistryAnswer>(path, {
          url,
          insecure: Boolean(opts.insecure),
          username: opts.username ?? null,
          passwordEnv: opts.passwordEnv ?? null,
          passwordFile: opts.passwordFile ?? null,
        })
      : await api.get<RegistryAnswer>(path);
  if (opts.json) return printJson(res);
  const r = res.registry;
  if (!r) {
    process.stdout.write(
      `${name}: images go to the server's registry (GANTRY_REGISTRY); set one with \`gantry app registry ${name} <host[:port][/prefix]>\`\n`,
    );
    return;
  }
  const login = r.username
    ? `as ${r.username}${r.passwordEnv ? `, password from $${r.passwordEnv}` : r.passwordFile ? `, password from ${r.passwordFile}` : ', no password'}`
    : 'without credentials';
  process.stdout.write(
    safeText(
      `${name}: images go to ${r.url}/${name} (${r.insecure ? 'plain HTTP, insecure' : 'TLS'}), ${login}\n`,
    ),
  );
}
