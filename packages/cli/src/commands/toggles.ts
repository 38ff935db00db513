import type { Segment, Toggle } from '@gantry/contracts';
import { CliError, client, pickApp } from '../context.js';
import { ago, printJson, table } from '../output.js';
import { describeEnv, describeStrategy } from './toggle-describe.js';

const base = (app: string) => `/api/apps/${encodeURIComponent(app)}/toggles`;

export async function togglesList(opts: { app?: string; archived?: boolean; json?: boolean }) {
  const api = await client();
  const app = await pickApp(api, opts.app);
  const list = await api.get<Toggle[]>(`${base(app)}${opts.archived ? '?archived=true' : ''}`);
  if (opts.json) return printJson(list);
  // Every environment along the promotion path, even where a toggle was never touched (it is off).
  const { environments } = await api.get<{ environments: string[] }>(
    `/api/apps/${encodeURIComponent(app)}/toggle-environments`,
  );
  const touched = [...new Set(list.flatMap((t) => t.environments.map((e) => e.env)))].sort();
  const envs = [...environments, ...touched.filter((e) => !environments.includes(e))];
  table(
    list.map((t) => ({
      name: t.name,
      type: t.type,
      owner: t.owner ?? '',
      created: ago(t.createdAt),
      ...Object.fromEntries(envs.map((e) => [e, describeEnv(t, e)])),
      ...(t.archivedAt ? { archived: ago(t.archivedAt) } : {}),
    })),
    ['name', 'type', 'owner', 'created', ...envs, ...(opts.archived ? ['archived'] : [])],
  );
}

export async function togglesShow(name: string, opts: { app?: string; json?: boolean }) {
  const api = await client();
  const app = await pickApp(api, opts.app);
  const t = await api.get<Toggle>(`${base(app)}/${encodeURIComponent(name)}`);
  if (opts.json) return printJson(t);
  process.stdout.write(
    `${t.name} (${t.type}) in ${t.app}${t.archivedAt ? ' [archived]' : ''}\n` +
      `${t.description ? `${t.description}\n` : ''}owner: ${t.owner ?? '-'}; created ${ago(t.createdAt)} by ${t.createdBy}\n`,
  );
  if (t.dependencies.length)
    process.stdout.write(`depends on: ${t.dependencies.map((d) => d.feature).join(', ')}\n`);
  const segments = t.environments.some((e) => e.strategies.some((s) => s.segments?.length))
    ? new Map(
        (await api.get<Segment[]>(`/api/apps/${encodeURIComponent(app)}/segments`)).map((s) => [
          s.id,
          s.name,
        ]),
      )
    : undefined;
  for (const e of t.environments) {
    process.stdout.write(`\n${e.env}: ${describeEnv(t, e.env)}, changed ${ago(e.updatedAt)}\n`);
    e.strategies.forEach((s, i) => {
      process.stdout.write(`  ${i + 1}. ${describeStrategy(s, segments)}\n`);
    });
    for (const v of e.variants)
      process.stdout.write(
        `  variant ${v.name} ${v.weight / 10}%${v.payload ? ` ${v.payload.type} ${v.payload.value}` : ''}\n`,
      );
  }
}

export async function togglesCreate(
  name: string,
  opts: { app?: string; type?: string; description?: string; owner?: string; json?: boolean },
) {
  const api = await client();
  const app = await pickApp(api, opts.app);
  const t = await api.post<Toggle>(base(app), {
    name,
    type: opts.type,
    description: opts.description,
    owner: opts.owner,
  });
  if (opts.json) return printJson(t);
  process.stdout.write(
    `created ${t.name} (${t.type}); it is off everywhere until \`gantry toggles enable ${t.name} <env>\`\n`,
  );
}

async function setEnabled(
  name: string,
  env: string,
  enabled: boolean,
  opts: { app?: string; json?: boolean },
) {
  const api = await client();
  const app = await pickApp(api, opts.app);
  const current = await api.get<Toggle>(`${base(app)}/${encodeURIComponent(name)}`);
  const hasStrategies = (current.environments.find((e) => e.env === env)?.strategies.length ?? 0) > 0;
  const t = await api.put<Toggle>(`${base(app)}/${encodeURIComponent(name)}/environments/${env}`, {
    enabled,
    ...(enabled && !hasStrategies && { strategies: [{ name: 'default' }] }),
  });
  if (opts.json) return printJson(t);
  process.stdout.write(`${t.name} in ${env}: ${describeEnv(t, env)}\n`);
}

export const togglesEnable = (name: string, env: string, opts: { app?: string; json?: boolean }) =>
  setEnabled(name, env, true, opts);
export const togglesDisable = (name: string, env: string, opts: { app?: string; json?: boolean }) =>
  setEnabled(name, env, false, opts);

export async function togglesRollout(
  name: string,
  env: string,
  percent: string,
  opts: { app?: string; json?: boolean },
) {
  const n = Number(percent.replace(/%$/, ''));
  if (!Number.isInteger(n) || n < 0 || n > 100)
    throw new CliError(`rollout must be a whole number from 0 to 100, got ${percent}`);
  const api = await client();
  const app = await pickApp(api, opts.app);
  const t = await api.post<Toggle>(`${base(app)}/${encodeURIComponent(name)}/environments/${env}/rollout`, {
    percent: n,
  });
  if (opts.json) return printJson(t);
  process.stdout.write(`${t.name} in ${env}: ${describeEnv(t, env)}\n`);
}

export async function togglesArchive(name: string, opts: { app?: string; json?: boolean }) {
  const api = await client();
  const app = await pickApp(api, opts.app);
  const t = await api.post<Toggle>(`${base(app)}/${encodeURIComponent(name)}/archive`);
  if (opts.json) return printJson(t);
  process.stdout.write(`archived ${t.name}; SDKs no longer see it\n`);
}

export async function togglesCopy(
  name: string,
  opts: { app?: string; from: string; to: string; yes?: boolean; json?: boolean },
) {
  const api = await client();
  const app = await pickApp(api, opts.app);
  const path = `${base(app)}/${encodeURIComponent(name)}/copy`;
  type Diff = { field: string; from: unknown; to: unknown };
  const preview = await api.post<{ diff: Diff[] }>(path, { from: opts.from, to: opts.to, dryRun: true });
  if (!opts.json) {
    if (preview.diff.length === 0)
      process.stdout.write(`${opts.to} already matches ${opts.from}; nothing to copy\n`);
    for (const d of preview.diff) {
      process.stdout.write(
        `${d.field}:\n  - ${opts.to}: ${JSON.stringify(d.from)}\n  + ${opts.from}: ${JSON.stringify(d.to)}\n`,
      );
    }
  }
  if (preview.diff.length === 0) return opts.json ? printJson({ ...preview, applied: false }) : undefined;
  if (!opts.yes) {
    if (opts.json) return printJson({ ...preview, applied: false });
    process.stdout.write('(preview only: pass --yes to copy)\n');
    return;
  }
  const res = await api.post<{ diff: Diff[]; applied: boolean }>(path, { from: opts.from, to: opts.to });
  if (opts.json) return printJson(res);
  process.stdout.write(`copied ${name} from ${opts.from} to ${opts.to}\n`);
}

export async function togglesStale(opts: { app?: string; env?: string; days?: string; json?: boolean }) {
  const api = await client();
  const app = await pickApp(api, opts.app);
  const q = new URLSearchParams({ env: opts.env ?? 'production', days: opts.days ?? '30' });
  const list = await api.get<{ name: string; reason: string; since: string | null; days: number }[]>(
    `/api/apps/${encodeURIComponent(app)}/toggles-stale?${q}`,
  );
  if (opts.json) return printJson(list);
  table(
    list.map((s) => ({
      name: s.name,
      why: s.reason === 'fully-on' ? 'fully on' : 'not evaluated',
      days: String(s.days),
    })),
    ['name', 'why', 'days'],
  );
}
