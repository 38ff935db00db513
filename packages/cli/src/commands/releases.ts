import type { Release } from '@gantry/contracts';
import { CliError, client } from '../context.js';
import { ago, plural, printJson, table } from '../output.js';

function show(r: Release): void {
  process.stdout.write(
    `release ${r.name}: ${r.status}${r.scheduledAt && r.status === 'scheduled' ? ` for ${r.scheduledAt}` : ''}` +
      `${r.appliedAt ? `, applied ${ago(r.appliedAt)}` : ''}${r.revertedAt ? `, reverted ${ago(r.revertedAt)}` : ''}\n` +
      `${r.notes ? `\n${r.notes}\n\n` : ''}`,
  );
  table(
    r.changes.map((c) => ({
      '#': String(c.idx),
      app: c.app,
      toggle: c.toggle,
      env: c.env,
      change: Object.entries(c.change)
        .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
        .join(' '),
    })),
    ['#', 'app', 'toggle', 'env', 'change'],
  );
  if (r.error) process.stdout.write(`error: ${r.error}\n`);
}

const path = (name: string) => `/api/releases/${encodeURIComponent(name)}`;

export async function releaseCreate(name: string, opts: { notes?: string; json?: boolean }) {
  const r = await (await client()).post<Release>('/api/releases', { name, notes: opts.notes ?? '' });
  if (opts.json) return printJson(r);
  process.stdout.write(
    `created release ${r.name}; add changes with \`gantry release add ${r.name} <app> <toggle> <env> --enable\`\n`,
  );
}

export async function releaseAdd(
  name: string,
  app: string,
  toggle: string,
  env: string,
  opts: { enable?: boolean; disable?: boolean; rollout?: string; json?: boolean },
) {
  const change: Record<string, unknown> = {};
  if (opts.enable) change.enabled = true;
  if (opts.disable) change.enabled = false;
  if (opts.rollout !== undefined) {
    const n = Number(opts.rollout.replace(/%$/, ''));
    if (!Number.isInteger(n) || n < 0 || n > 100)
      throw new CliError(`--rollout must be 0 to 100, got ${opts.rollout}`);
    change.rollout = n;
    change.enabled ??= true;
  }
  if (Object.keys(change).length === 0)
    throw new CliError('say what changes: --enable, --disable or --rollout <percent>');
  const r = await (await client()).post<Release>(`${path(name)}/changes`, { app, toggle, env, change });
  if (opts.json) return printJson(r);
  show(r);
}

export async function releaseShow(name: string, opts: { json?: boolean }) {
  const r = await (await client()).get<Release>(path(name));
  if (opts.json) return printJson(r);
  show(r);
}

export async function releaseList(opts: { json?: boolean }) {
  const list = await (await client()).get<Release[]>('/api/releases');
  if (opts.json) return printJson(list);
  table(
    list.map((r) => ({
      name: r.name,
      status: r.status,
      changes: String(r.changes.length),
      by: r.createdBy,
      created: ago(r.createdAt),
    })),
    ['name', 'status', 'changes', 'by', 'created'],
  );
}

export async function releaseSchedule(name: string, at: string, opts: { json?: boolean }) {
  const r = await (await client()).post<Release>(`${path(name)}/schedule`, { at });
  if (opts.json) return printJson(r);
  process.stdout.write(`release ${r.name} will be applied at ${r.scheduledAt}\n`);
}

export async function releaseApply(name: string, opts: { json?: boolean }) {
  const r = await (await client()).post<Release>(`${path(name)}/apply`);
  if (opts.json) return printJson(r);
  process.stdout.write(`applied release ${r.name}: ${plural(r.changes.length, 'change')} in one revision\n`);
}

export async function releaseRevert(name: string, opts: { json?: boolean }) {
  const r = await (await client()).post<Release>(`${path(name)}/revert`);
  if (opts.json) return printJson(r);
  process.stdout.write(`reverted release ${r.name}: every toggle is back to its state before\n`);
}

/**
 * Takes a change out of a draft or scheduled release: by its number (the # of `gantry release show`)
 * or by app, toggle and environment (every change of that toggle there).
 */
export async function releaseRemove(name: string, change: string[], opts: { json?: boolean }) {
  const api = await client();
  let numbers: number[];
  if (change.length === 1 && /^\d+$/.test(change[0]!)) numbers = [Number(change[0])];
  else if (change.length === 3) {
    const [app, toggle, env] = change;
    const r = await api.get<Release>(path(name));
    numbers = r.changes
      .filter((c) => c.app === app && c.toggle === toggle && c.env === env)
      .map((c) => c.idx);
    if (numbers.length === 0)
      throw new CliError(
        `release ${name} has no change of ${app} ${toggle} in ${env}; see \`gantry release show ${name}\``,
      );
  } else {
    throw new CliError(
      'say which change: its number from `gantry release show` (#), or <app> <toggle> <env>',
    );
  }
  let r: Release | undefined;
  for (const n of numbers) r = await api.delete<Release>(`${path(name)}/changes/${n}`);
  if (opts.json) return printJson(r);
  process.stdout.write(
    `removed ${numbers.length === 1 ? 'change' : 'changes'} ${numbers.join(', ')} from release ${name}\n`,
  );
  show(r!);
}

export async function releaseUnschedule(name: string, opts: { json?: boolean }) {
  const r = await (await client()).post<Release>(`${path(name)}/unschedule`);
  if (opts.json) return printJson(r);
  process.stdout.write(
    `release ${r.name} is a draft again; it will not be applied until you schedule or apply it\n`,
  );
}

export async function releaseCancel(name: string, opts: { json?: boolean }) {
  const r = await (await client()).post<Release>(`${path(name)}/cancel`);
  if (opts.json) return printJson(r);
  process.stdout.write(`cancelled release ${r.name}; nothing of it was applied\n`);
}
