import type { Incident } from '@gantry/contracts';
import { client, pickApp, qs } from '../context.js';
import { ago, between, duration, printJson, table } from '../output.js';
import { whoAmI } from './deploy.js';

const path = (id: string) => `/api/incidents/${encodeURIComponent(id)}`;

export async function incidentOpen(opts: {
  app?: string;
  env: string;
  deployment?: string;
  title?: string;
  json?: boolean;
}) {
  const api = await client();
  const app = await pickApp(api, opts.app);
  const i = await api.post<Incident>('/api/incidents', {
    app,
    env: opts.env,
    ...(opts.deployment && { deploymentId: opts.deployment }),
    ...(opts.title && { title: opts.title }),
    actor: whoAmI(),
  });
  if (opts.json) return printJson(i);
  process.stdout.write(
    `opened incident ${i.id} in ${i.app}/${i.env}: ${i.title}` +
      `${i.deploymentId ? ` (deployment ${i.deploymentId})` : ''}\n` +
      `resolve it with \`gantry incident resolve ${i.id}\`\n`,
  );
}

export async function incidentResolve(id: string, opts: { json?: boolean }) {
  const i = await (await client()).post<Incident>(`${path(id)}/resolve`, { actor: whoAmI() });
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
