import { type AuditEntry, type AuditList, type AuditVerify, auditTimeProblem } from '@gantry/contracts';
import { CliError, client, qs } from '../context.js';
import { printJson, table } from '../output.js';

export interface AuditListOptions {
  since?: string;
  until?: string;
  app?: string;
  env?: string;
  actor?: string;
  limit?: string;
  before?: string;
  json?: boolean;
}

function time(option: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const problem = auditTimeProblem(value);
  if (problem) throw new CliError(`${option}: ${problem}`);
  return value;
}

function count(option: string, value: string | undefined, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new CliError(`${option} ${value}: expected a whole number from 1 to ${max}`);
  return n;
}

const OUTCOMES: Record<number, string> = {
  400: 'invalid',
  401: 'unauthenticated',
  403: 'refused',
  404: 'not found',
  409: 'conflict',
  429: 'too many',
};

function outcome(status: number): string {
  if (status < 400) return `${status} ok`;
  return `${status} ${OUTCOMES[status] ?? (status >= 500 ? 'failed' : 'refused')}`;
}

/** `PUT /api/apps/shop/forge`: the route with its parameters in place; what the server did itself, in words. */
function what(e: AuditEntry): string {
  if (e.method === 'SYSTEM' && e.route === 'audit.prune') {
    const b = e.body as { removed?: number; retentionDays?: number } | null;
    return `pruned ${b?.removed ?? '?'} audit rows older than ${b?.retentionDays ?? '?'} days`;
  }
  const path = e.route.replace(/:(\w+)/g, (m, name: string) => {
    const v = e.params[name];
    return typeof v === 'string' ? v : m;
  });
  return `${e.method} ${path}`;
}

/** `gantry audit`: who changed what, where and when, newest first. */
export async function auditList(opts: AuditListOptions): Promise<void> {
  const query = qs({
    since: time('--since', opts.since),
    until: time('--until', opts.until),
    app: opts.app,
    env: opts.env,
    actor: opts.actor,
    limit: count('--limit', opts.limit, 1000) ?? 50,
    before: count('--before', opts.before, Number.MAX_SAFE_INTEGER),
  });
  const list = await (await client()).get<AuditList>(`/api/audit${query}`);
  if (opts.json) return printJson(list);
  table(
    list.entries.map((e) => ({
      seq: String(e.seq),
      when: e.at.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
      who: e.ip ? `${e.actor} (${e.ip})` : e.actor,
      what: what(e),
      where: [e.app, e.env].filter(Boolean).join('/'),
      outcome: outcome(e.status),
    })),
    ['seq', 'when', 'who', 'what', 'where', 'outcome'],
  );
  if (list.next !== null) process.stdout.write(`older entries: add --before ${list.next}\n`);
}

/** `gantry audit verify`: exits 1, naming the first broken row, when the chain does not hold. */
export async function auditVerify(opts: { json?: boolean }): Promise<void> {
  const v = await (await client()).post<AuditVerify>('/api/audit/verify');
  if (opts.json) printJson(v);
  if (!v.ok && v.firstBroken) {
    const b = v.firstBroken;
    throw new CliError(
      `the audit log is broken at row ${b.seq}${b.at ? ` (written ${b.at})` : ''}: ${b.why}\n` +
        `${v.rows} rows before it check out`,
    );
  }
  if (opts.json) return;
  const from = v.anchor.seq + 1;
  process.stdout.write(
    `the audit log checks out: ${v.rows} rows${v.rows > 0 ? ` (${from}…${v.head.seq})` : ''}` +
      `${v.anchor.seq > 0 ? `, rows up to ${v.anchor.seq} pruned by retention` : ''}\n` +
      `head: row ${v.head.seq} ${v.head.hash}\n`,
  );
}
