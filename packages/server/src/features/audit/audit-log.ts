import type { AuditEntry, AuditList, AuditVerify } from '@gantry/contracts';
import type { Logger } from 'pino';
import { type AuditRow, type BrokenRow, ChainCheck } from './audit-chain.js';
import { type AuditRecord, PRUNE_ROUTE } from './audit-record.js';
import type { AuditEnds, AuditFilter, AuditStore } from './audit-store.js';

export interface AuditLogOptions {
  store: AuditStore;
  logger: Pick<Logger, 'error' | 'warn' | 'info'>;
  /** Rows older than this many days are pruned; 0 keeps every row. */
  retentionDays: number;
  now?: () => number;
  /** Records waiting to be written past which new ones go to the server log only (default 10 000). */
  maxPending?: number;
}

const BATCH = 200;
const VERIFY_PAGE = 1000;
const PRUNE_MAX_ROWS = 5000;

/**
 * Records changes without holding up the answers they describe: a record is queued and written in
 * order by one writer per server (several queued records go in one transaction). A record that
 * cannot be written is logged as an error with its content, so it is never lost silently.
 */
export class AuditLog {
  private readonly pending: AuditRecord[] = [];
  private writing: Promise<void> | null = null;
  /** Pruning and verifying take turns: a prune during a walk would look like deleted rows. */
  private exclusive: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private first: NodeJS.Immediate | undefined;
  private readonly now: () => number;

  constructor(private readonly opts: AuditLogOptions) {
    this.now = opts.now ?? Date.now;
  }

  record(r: AuditRecord): void {
    if (this.pending.length >= (this.opts.maxPending ?? 10_000)) {
      this.opts.logger.error(
        { audit: r },
        'audit: too many records wait to be written (is the database down?); this one is only in the server log',
      );
      return;
    }
    this.pending.push(r);
    this.kick();
  }

  /** Resolves once every record queued so far is written (or logged as failed). */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private kick(): void {
    if (this.writing || this.pending.length === 0) return;
    this.writing = this.drain().finally(() => {
      this.writing = null;
      this.kick();
    });
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, BATCH);
      try {
        await this.opts.store.append(batch);
      } catch (err) {
        // One record the database refuses must not take the others with it: write them one by one.
        for (const r of batch) {
          try {
            if (batch.length > 1) await this.opts.store.append([r]);
            else throw err;
          } catch (e) {
            this.opts.logger.error(
              { err: e, audit: r },
              `audit: could not record ${r.method} ${r.route} by ${r.actor} (status ${r.status}) in the audit log`,
            );
          }
        }
      }
    }
  }

  async list(q: Omit<AuditFilter, 'limit'> & { limit?: number }): Promise<AuditList> {
    await this.flush();
    const limit = q.limit ?? 100;
    const rows = await this.opts.store.list({ ...q, limit });
    return {
      entries: rows.map(toEntry),
      next: rows.length === limit ? rows.at(-1)!.seq : null,
    };
  }

  /** Walks the chain from its anchor to its head; names the first row that breaks it. */
  verify(): Promise<AuditVerify> {
    return this.turn(async () => {
      await this.flush();
      // A pruning by another server moves the anchor under the walk: walk again from the new one.
      for (let attempt = 1; ; attempt++) {
        const ends = await this.opts.store.ends();
        const result = await this.walk(ends);
        if (result.ok || attempt === 3) return result;
        const now = await this.opts.store.ends();
        if (now.anchor.seq === ends.anchor.seq && now.anchor.hash === ends.anchor.hash) return result;
      }
    });
  }

  private async walk({ head, anchor }: AuditEnds): Promise<AuditVerify> {
    const check = new ChainCheck(anchor);
    let after = anchor.seq;
    for (;;) {
      const page = await this.opts.store.rows(after, head.seq, VERIFY_PAGE);
      for (const row of page) if (!check.push(row)) break;
      if (check.broken || page.length < VERIFY_PAGE) break;
      after = page.at(-1)!.seq;
    }
    const firstBroken: BrokenRow | null = check.end(head);
    return { ok: firstBroken === null, rows: check.rows, firstBroken, anchor, head };
  }

  /**
   * Deletes rows older than the retention, oldest first, and records that it did (the record carries
   * the new anchor, which verification checks). Rows that do not check out are kept.
   */
  prune(): Promise<{ removed: number }> {
    const days = this.opts.retentionDays;
    if (days <= 0) return Promise.resolve({ removed: 0 });
    return this.turn(async () => {
      await this.flush();
      const cutoff = new Date(this.now() - days * 86_400_000).toISOString();
      let removed = 0;
      for (;;) {
        const outcome = await this.opts.store.prune(cutoff, PRUNE_MAX_ROWS, (n, anchor) => ({
          at: new Date(this.now()).toISOString(),
          actor: 'gantry:retention',
          principal: null,
          method: 'SYSTEM',
          route: PRUNE_ROUTE,
          params: {},
          query: null,
          app: null,
          env: null,
          ip: null,
          userAgent: null,
          requestId: null,
          status: 200,
          body: { removed: n, olderThan: cutoff, retentionDays: days, anchor },
          before: undefined,
          after: undefined,
        }));
        if ('refused' in outcome) {
          this.opts.logger.error(
            { firstBroken: outcome.refused },
            `audit: not pruning: the chain is broken at row ${outcome.refused.seq} (${outcome.refused.why}); the rows stay as evidence — see \`gantry audit verify\``,
          );
          return { removed };
        }
        removed += outcome.removed;
        if (outcome.removed < PRUNE_MAX_ROWS) break;
      }
      if (removed > 0) this.opts.logger.info({ removed, cutoff }, 'audit: pruned rows past the retention');
      return { removed };
    });
  }

  /** Prunes now and then every `everyMs`; a failure is logged and tried again at the next turn. */
  start(everyMs = 3_600_000): void {
    const run = () =>
      void this.prune().catch((err: unknown) => this.opts.logger.error({ err }, 'audit: pruning failed'));
    this.timer = setInterval(run, everyMs);
    this.timer.unref();
    this.first = setImmediate(run);
  }

  /** Stops the timer and waits for what is queued and running. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    clearImmediate(this.first);
    await this.exclusive.catch(() => {});
    await this.flush();
  }

  private turn<T>(work: () => Promise<T>): Promise<T> {
    const next = this.exclusive.catch(() => {}).then(work);
    this.exclusive = next;
    return next;
  }
}

/** A column edited by hand into something that is not JSON is shown as the text it holds. */
function parse(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function toEntry(r: AuditRow): AuditEntry {
  return {
    seq: r.seq,
    at: r.at,
    actor: r.actor,
    principal: parse(r.principal) as AuditEntry['principal'],
    method: r.method,
    route: r.route,
    params: parse(r.params) as Record<string, unknown>,
    query: parse(r.query) as Record<string, unknown> | null,
    app: r.app,
    env: r.env,
    ip: r.ip,
    userAgent: r.user_agent,
    requestId: r.request_id,
    status: r.status,
    body: parse(r.body),
    before: parse(r.before),
    after: parse(r.after),
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}
