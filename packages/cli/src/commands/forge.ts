import { CliError, client } from '../context.js';
import { printJson, safeLine } from '../output.js';
import { type Delivery, deliveriesTable, secretFrom } from './webhooks.js';

interface ForgeView {
  provider: 'github' | 'gitlab' | 'gitea';
  apiUrl: string;
  repo: string;
  productionEnvironments: string[];
  token: 'stored';
  updatedAt: string;
  updatedBy: string;
}

export interface ForgeOptions {
  provider?: string;
  repo?: string;
  apiUrl?: string;
  tokenEnv?: string;
  tokenFile?: string;
  productionEnv?: string;
  clear?: boolean;
  deliveries?: boolean;
  json?: boolean;
}

/**
 * `gantry app forge <app>`: shows, sets or (with --clear) forgets where the app's commit statuses
 * and deployments go; `--deliveries` lists the calls made there. The token is read here from a
 * variable or a file, never from the command line, and never shown again.
 */
export async function appForge(app: string, opts: ForgeOptions): Promise<void> {
  const api = await client();
  const path = `/api/apps/${encodeURIComponent(app)}/forge`;
  const setting =
    opts.provider || opts.repo || opts.apiUrl || opts.tokenEnv || opts.tokenFile || opts.productionEnv;
  if (opts.deliveries) {
    if (setting || opts.clear) throw new CliError('--deliveries only lists; give it alone');
    const list = await api.get<Delivery[]>(`${path}/deliveries`);
    if (opts.json) return printJson(list);
    return deliveriesTable(list);
  }
  if (opts.clear && setting) throw new CliError('give the forge settings or --clear, not both');
  let res: { forge: ForgeView | null };
  if (opts.clear) res = await api.delete(path);
  else if (setting) {
    if (!opts.provider || !opts.repo)
      throw new CliError('--provider (github, gitlab or gitea) and --repo are both needed to set a forge');
    const token = await secretFrom('token', {
      env: opts.tokenEnv,
      file: opts.tokenFile,
      envFlag: '--token-env',
      fileFlag: '--token-file',
    });
    res = await api.put(path, {
      provider: opts.provider,
      repo: opts.repo,
      ...(opts.apiUrl && { apiUrl: opts.apiUrl }),
      ...(token && { token }),
      ...(opts.productionEnv && {
        productionEnvironments: opts.productionEnv
          .split(',')
          .map((e) => e.trim())
          .filter(Boolean),
      }),
    });
  } else res = await api.get(path);
  if (opts.json) return printJson(res);
  const f = res.forge;
  if (!f) {
    process.stdout.write(
      `${app}: no forge; send its statuses with \`gantry app forge ${app} --provider github --repo owner/name --token-env VAR\`\n`,
    );
    return;
  }
  process.stdout.write(
    `${safeLine(
      `${app}: statuses and deployments go to ${f.provider} ${f.repo} at ${f.apiUrl} (token stored; production: ${f.productionEnvironments.join(', ') || 'none'})`,
    )}\nsee the calls with \`gantry app forge ${app} --deliveries\`\n`,
  );
}
