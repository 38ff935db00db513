import { open } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { Db } from '../../db/database.js';
import { isUniqueViolation } from '../../db/db-errors.js';
import { nowIso } from '../../ids.js';
import type { BuildStore } from './build-store.js';
import { type AgedEntry, expired, type RetentionPolicy } from './log-retention.js';

/** A step's log file being copied into the database: how much of it is there. */
interface Shipping {
  buildId: string;
  idx: number;
  file: string;
  shipped: number;
  /** The copy in progress, if any: the next waits for it. */
  busy: Promise<void>;
}

/** The most bytes one row holds. */
const CHUNK = 1 << 20;

/**
 * Build step logs in the database, for several servers on PostgreSQL (`build_log_chunks`): the
 * server whose runner writes a step's log file copies what is new into the database every
 * `intervalMs` and all of it before the step ends, so any server reads a finished step whole and a
 * running one a moment behind; log chunks an agent sends go only to the database, whichever server
 * receives them. Each row is the bytes at `start` of the step's log.
 */
export class SharedBuildLogs {
  /** Steps this server's runners write, and how much of each file is in the database. */
  private readonly shipping = new Map<string, Shipping>();
  private readonly timer: NodeJS.Timeout;
  private pass: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
    intervalMs = 500,
  ) {
    this.timer = setInterval(() => {
      this.pass = this.pass.then(() => this.shipAll());
    }, intervalMs);
    this.timer.unref();
  }

  /** A step this server runs: its log file goes to the database as it grows. */
  track(buildId: string, idx: number, file: string): void {
    const key = `${buildId}\u0000${idx}`;
    if (!this.shipping.has(key))
      this.shipping.set(key, { buildId, idx, file, shipped: 0, busy: Promise.resolve() });
  }

  /** The step ended: what is left of its file goes to the database before anyone reads it ended. */
  async finish(buildId: string, idx: number): Promise<void> {
    const key = `${buildId}\u0000${idx}`;
    const s = this.shipping.get(key);
    if (!s) return;
    await this.ship(s).catch((err: unknown) =>
      this.logger.warn({ err, build: buildId, step: idx }, 'could not copy a build log into the database'),
    );
    this.shipping.delete(key);
  }

  /** Bytes an agent sent for a step, after those already there. */
  async append(buildId: string, idx: number, data: Buffer): Promise<void> {
    for (let offset = 0; offset < data.length; offset += CHUNK) {
      const part = data.subarray(offset, offset + CHUNK);
      for (let attempt = 1; ; attempt++) {
        const start = await this.length(buildId, idx);
        try {
          await this.insert(buildId, idx, start, part);
          break;
        } catch (e) {
          // Another server appended at the same place first: append after it.
          if (!isUniqueViolation(e) || attempt >= 5) throw e;
        }
      }
    }
  }

  /** The step's log from `offset`, as far as the database has it (at most about 1 MiB). */
  async read(buildId: string, idx: number, offset: number): Promise<Buffer> {
    const rows = await this.db
      .selectFrom('build_log_chunks')
      .select(['start', 'data'])
      .where('build_id', '=', buildId)
      .where('idx', '=', idx)
      .where((eb) => eb(eb('start', '+', eb.ref('size')), '>', offset))
      .orderBy('start')
      .limit(4)
      .execute();
    const parts: Buffer[] = [];
    let at = offset;
    for (const r of rows) {
      const start = Number(r.start);
      if (start > at) break; // a gap: not written yet
      parts.push(Buffer.from(r.data).subarray(at - start));
      at = start + r.data.length;
      if (at - offset >= CHUNK) break;
    }
    return Buffer.concat(parts);
  }

  /**
   * Removes the logs the policy no longer keeps, as the data dir's retention does for files: the
   * newest `keep` builds always, older ones until `maxAgeMs`, never a running build's.
   */
  async prune(policy: RetentionPolicy, running: Set<string>, now = Date.now()): Promise<string[]> {
    const rows = await this.db
      .selectFrom('build_log_chunks')
      .select(['build_id', (eb) => eb.fn.max('written_at').as('at')])
      .groupBy('build_id')
      .execute();
    const entries: AgedEntry[] = rows.map((r) => ({ name: r.build_id, mtimeMs: Date.parse(String(r.at)) }));
    const removed = expired(entries, policy, now, (id) => running.has(id));
    for (let i = 0; i < removed.length; i += 500)
      await this.db
        .deleteFrom('build_log_chunks')
        .where('build_id', 'in', removed.slice(i, i + 500))
        .execute();
    return removed;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.pass;
    await Promise.all([...this.shipping.values()].map((s) => this.finish(s.buildId, s.idx)));
  }

  private async shipAll(): Promise<void> {
    for (const s of this.shipping.values()) {
      await this.ship(s).catch((err: unknown) =>
        this.logger.warn(
          { err, build: s.buildId, step: s.idx },
          'could not copy a build log into the database',
        ),
      );
    }
  }

  /**
   * Copies the file's bytes past `shipped` into the database. One copy at a time per step (the
   * timer's and the step end's), each run of bytes inserted at the offset it was read from.
   */
  private ship(s: Shipping): Promise<void> {
    const next = s.busy.then(() => this.shipNow(s));
    s.busy = next.catch(() => undefined);
    return next;
  }

  private async shipNow(s: Shipping): Promise<void> {
    const fh = await open(s.file, 'r').catch(() => null);
    if (!fh) return;
    try {
      for (;;) {
        const at = s.shipped;
        const buf = Buffer.alloc(CHUNK);
        const { bytesRead } = await fh.read(buf, 0, CHUNK, at);
        if (bytesRead === 0) return;
        await this.insert(s.buildId, s.idx, at, buf.subarray(0, bytesRead));
        s.shipped = at + bytesRead;
      }
    } finally {
      await fh.close();
    }
  }

  private async length(buildId: string, idx: number): Promise<number> {
    const row = await this.db
      .selectFrom('build_log_chunks')
      .select((eb) => eb.fn.max(eb('start', '+', eb.ref('size'))).as('end'))
      .where('build_id', '=', buildId)
      .where('idx', '=', idx)
      .executeTakeFirst();
    return Number(row?.end ?? 0);
  }

  private async insert(buildId: string, idx: number, start: number, data: Buffer): Promise<void> {
    await this.db
      .insertInto('build_log_chunks')
      .values({ build_id: buildId, idx, start, size: data.length, data, written_at: nowIso() })
      .execute();
  }
}

const ENDED = new Set(['succeeded', 'failed', 'cancelled']);

/**
 * The build store as the runners use it with shared logs: a step that starts has its log file
 * copied into the database as it grows, and a step's end is written only once all of its log is
 * there, so a server that reads the step ended reads its whole log.
 */
export function withSharedStepLogs(
  store: BuildStore,
  logs: SharedBuildLogs,
  logPath: (buildId: string, idx: number) => string,
): BuildStore {
  const shared: BuildStore = Object.create(store);
  shared.updateStep = async (buildId, idx, patch) => {
    if (patch.status === 'running') logs.track(buildId, idx, logPath(buildId, idx));
    else if (patch.status && ENDED.has(patch.status)) await logs.finish(buildId, idx);
    return store.updateStep(buildId, idx, patch);
  };
  return shared;
}
