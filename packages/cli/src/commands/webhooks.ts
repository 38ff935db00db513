import { readFile } from 'node:fs/promises';
import { parseDuration } from '@gantry/contracts';
import { CliError, client, qs } from '../context.js';
import { ago, duration, printJson, safeLine, table } from '../output.js';

/** A webhook as the API shows it (the secret never comes back; the URL is masked). */
interface Webhook {
  id: string;
  app: string | null;
  url: string;
  events: string[];
  format: 'gantry' | 'slack';
  signed: boolean;
  timeoutMs: number;
  maxAttempts: number;
  createdAt: string;
  createdBy: string;
  deliveries: { pending: number; succeeded: number; failed: number; skipped: number };
}

interface Attempt {
  id: string;
  number: number;
  redelivery: boolean;
  startedAt: string;
  ms: number;
  url: string;
  responseStatus: number | null;
  responseBody: string | null;
  error: string | null;
}

export interface Delivery {
  id: string;
  target: string;
  app: string | null;
  event: { id: number; type: string };
  action: string;
  status: 'pending' | 'succeeded' | 'failed' | 'skipped';
  attemptCount: number;
  maxAttempts: number;
  nextAttemptAt: string | null;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: string;
  attempts: Attempt[];
}

const hookPath = (id: string) => `/api/notifications/webhooks/${encodeURIComponent(id)}`;

/**
 * A secret given by name, never on the command line (where `ps` and shell history would show it):
 * a variable of this shell's environment, or a file. Read here and sent once; the server stores it.
 */
export async function secretFrom(
  what: string,
  opts: { env?: string; file?: string; envFlag: string; fileFlag: string },
): Promise<string | undefined> {
  if (opts.env && opts.file) throw new CliError(`give ${opts.envFlag} or ${opts.fileFlag}, not both`);
  if (opts.env) {
    const value = process.env[opts.env];
    if (!value)
      throw new CliError(
        `${opts.envFlag} ${opts.env}: the variable is not set or empty; export the ${what} in it`,
      );
    return value;
  }
  if (opts.file) {
    const text = await readFile(opts.file, 'utf8').catch((e: NodeJS.ErrnoException) => {
      throw new CliError(`${opts.fileFlag} ${opts.file}: cannot read it (${e.code ?? e.message})`);
    });
    const value = text.replace(/\r?\n$/, '');
    if (!value) throw new CliError(`${opts.fileFlag} ${opts.file}: the file is empty`);
    return value;
  }
  return undefined;
}

export async function webhooksAdd(
  url: string,
  opts: {
    app?: string;
    events?: string;
    format?: string;
    secretEnv?: string;
    secretFile?: string;
    timeout?: string;
    maxAttempts?: string;
    json?: boolean;
  },
): Promise<void> {
  const secret = await secretFrom('secret', {
    env: opts.secretEnv,
    file: opts.secretFile,
    envFlag: '--secret-env',
    fileFlag: '--secret-file',
  });
  let timeoutMs: number | undefined;
  if (opts.timeout !== undefined) {
    try {
      timeoutMs = parseDuration(opts.timeout);
    } catch (e) {
      throw new CliError(`--timeout: ${(e as Error).message}`);
    }
  }
  const maxAttempts = opts.maxAttempts === undefined ? undefined : Number(opts.maxAttempts);
  if (maxAttempts !== undefined && !Number.isInteger(maxAttempts))
    throw new CliError(`--max-attempts ${opts.maxAttempts}: expected a whole number from 1 to 20`);
  const events = opts.events
    ?.split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  const w = await (await client()).post<Webhook>('/api/notifications/webhooks', {
    url,
    ...(opts.app && { app: opts.app }),
    ...(events && { events }),
    ...(opts.format && { format: opts.format }),
    ...(secret && { secret }),
    ...(timeoutMs !== undefined && { timeoutMs }),
    ...(maxAttempts !== undefined && { maxAttempts }),
  });
  if (opts.json) return printJson(w);
  process.stdout.write(
    `${safeLine(
      `added webhook ${w.id}: ${w.app ? `${w.app}'s` : "every app's"} ${w.events.join(', ')} to ${w.url} ` +
        `(${w.format}, ${w.signed ? 'signed' : 'unsigned'}, timeout ${duration(w.timeoutMs)}, ${w.maxAttempts} attempts)`,
    )}\nsee what was sent with \`gantry webhooks deliveries ${w.id}\`\n`,
  );
}

export async function webhooksList(opts: { app?: string; json?: boolean }): Promise<void> {
  const list = await (await client()).get<Webhook[]>(`/api/notifications/webhooks${qs({ app: opts.app })}`);
  if (opts.json) return printJson(list);
  table(
    list.map((w) => ({
      id: w.id,
      app: w.app ?? '(all)',
      events: w.events.join(','),
      format: w.format,
      signed: w.signed ? 'yes' : 'no',
      sent: String(w.deliveries.succeeded),
      failed: String(w.deliveries.failed),
      pending: String(w.deliveries.pending),
      url: w.url,
    })),
    ['id', 'app', 'events', 'format', 'signed', 'sent', 'failed', 'pending', 'url'],
  );
}

export async function webhooksRemove(id: string, opts: { json?: boolean }): Promise<void> {
  const w = await (await client()).delete<Webhook>(hookPath(id));
  if (opts.json) return printJson(w);
  process.stdout.write(`${safeLine(`removed webhook ${w.id} (${w.url}) and its delivery log`)}\n`);
}

/** What one delivery's last attempt came to, in a few words. */
export function lastOutcome(d: Delivery): string {
  const last = d.attempts.at(-1);
  if (!last) return d.lastError ?? '';
  return last.responseStatus !== null ? `${last.responseStatus} in ${duration(last.ms)}` : (last.error ?? '');
}

export function deliveriesTable(list: Delivery[]): void {
  table(
    list.map((d) => ({
      id: d.id,
      event: `${d.event.type} #${d.event.id}`,
      action: d.action,
      status: d.status,
      attempts: `${d.attemptCount}/${d.maxAttempts}`,
      last: lastOutcome(d),
      when: ago(d.createdAt),
    })),
    ['id', 'event', 'action', 'status', 'attempts', 'last', 'when'],
  );
}

export async function webhooksDeliveries(
  id: string,
  opts: { status?: string; limit?: string; json?: boolean },
): Promise<void> {
  const list = await (await client()).get<Delivery[]>(
    `${hookPath(id)}/deliveries${qs({ status: opts.status, limit: opts.limit })}`,
  );
  if (opts.json) return printJson(list);
  deliveriesTable(list);
}

export async function webhooksRedeliver(id: string, opts: { json?: boolean }): Promise<void> {
  const res = await (await client()).post<{ delivery: Delivery; attempt: Attempt | null }>(
    `/api/notifications/deliveries/${encodeURIComponent(id)}/redeliver`,
  );
  if (opts.json) return printJson(res);
  const a = res.attempt;
  if (!a) {
    process.stdout.write(`${safeLine(`nothing sent: ${res.delivery.lastError ?? res.delivery.status}`)}\n`);
    return;
  }
  const outcome = a.responseStatus !== null ? `answered ${a.responseStatus}` : `failed: ${a.error}`;
  const line = `redelivered ${res.delivery.id} (attempt ${a.number}) to ${a.url}: ${outcome} in ${duration(a.ms)}`;
  // A receiver that did not take it is a failure of the command, said on stderr with exit code 1.
  if (a.responseStatus === null || a.responseStatus < 200 || a.responseStatus >= 300)
    throw new CliError(line);
  process.stdout.write(`${safeLine(line)}\n`);
}
