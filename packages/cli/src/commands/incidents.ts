import type { Incident } from '@gantry/contracts';
import { CliError, client, pickApp, qs } from '../context.js';
import { ago, between, duration, printJson, table } from '../output.js';
import { whoAmI } from './deploy.js';

const path = (id: string) => `/api/incidents/${encodeURIComponent(id)}`;

export async function incidentOpen(opts: {
  app?: string;
  env: string;
  deployment?: string;
  title?: string;
  openedAt?: string;
  resolvedAt?: string;
  json?: boolean;
}) {
  const api = await client();
  const app = await pickApp(api, opts.app);
  const i = await api.post<Incident>('/api/incidents', {
    app,
    env: opts.env,
    ...(opts.deployment && { deploymentId: opts.deployment }),
    ...(opts.title && { title: opts.title }),
    ...(opts.openedAt && { openedAt: isoTime('--opened-at', opts.openedAt) }),
    ...(opts.resolvedAt && { resolvedAt: isoTime('--resolved-at', opts.resolvedAt) }),
    actor: whoAmI(),
  });
  if (opts.json) return printJson(i);
  process.stdout.write(
    `opened incident ${i.id} in ${i.app}/${i.env}: ${i.title}` +
      `${i.deploymentId ? ` (deployment ${i.deploymentId})` : ''}\n` +
      (i.resolvedAt
        ? `resolved after ${duration(between(i.openedAt, i.resolvedAt))}\n`
        : `resolve it with \`gantry incident resolve ${i.id}\`\n`),
  );
}

/**
 * A time from the command line as the API takes it: with a zone. A date or a time without one is read
 * as UTC, the zone of every time Gantry shows.
 */
function isoTime(option: string, value: string): string {
  const utc = /^\d{4}-\d{2}-\d{2}$/.test(value)
    ? `${value}T00:00:00Z`
    : /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(value)
      ? `${value.replace(' ', 'T')}Z`
      : value;
  if (Number.isNaN(Date.parse(utc)))
    throw new CliError(`${option} must be an ISO-8601 time, e.g. 2026-01-05T10:00:00Z, got "${value}"`);
  return utc;
}

export async function incidentResolve(id: string, opts: { at?: string; json?: boolean }) {
  const i = await (await client()).post<Incident>(`${path(id)}/resolve`, {
    actor: whoAmI(),
    ...(opts.at && { resolvedAt: isoTime('--at', opts.at) }),
  });
  if (opts.json) return printJson(i);
  process.stdout.write(
    `resolved incident ${i.id} in ${i.app}/${i.env} after ${duration(between(i.openedAt, i.resolvedAt))}\n`,
  );
}

export async function incidentList(opts: { app?: string; env?: string; open?: boolean; json?: boolean }) {
  const list = await (await client()).get<Incident[]>(
    `/api/incidents${qs({ app: opts.app, env: opts.env, open: opts.open ? 'true' : undefined })}`,
  );
  if (opts.json) return printJson(list);
  table(
    list.map((i) => ({
      id: i.id,
      app: i.app,
      env: i.env,
      opened: ago(i.openedAt),
      resolved: i.resolvedAt ? `after ${duration(between(i.openedAt, i.resolvedAt))}` : 'open',
      deployment: i.deploymentId ?? '',
      title: i.title,
    })),
    ['id', 'app', 'env', 'opened', 'resolved', 'deployment', 'title'],
  );
}
