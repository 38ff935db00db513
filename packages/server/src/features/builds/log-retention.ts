import { readdir, rm, stat } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import type { Logger } from 'pino';

/** How long logs are kept: the newest `keep` always; older ones until they are `maxAgeMs` old. */
export interface RetentionPolicy {
  keep: number;
  maxAgeMs: number;
}

export interface AgedEntry {
  name: string;
  mtimeMs: number;
}

/**
 * The entries a policy removes: not among the newest `keep` (newest by mtime, then by name, as
 * build ids and rotated file numbers grow), older than `maxAgeMs`, and not `live`.
 */
export function expired(
  entries: AgedEntry[],
  policy: RetentionPolicy,
  now: number,
  live: (name: string) => boolean = () => false,
): string[] {
  const newestFirst = [...entries].sort((a, b) => b.mtimeMs - a.mtimeMs || (a.name < b.name ? 1 : -1));
  return newestFirst
    .slice(policy.keep)
    .filter((e) => now - e.mtimeMs > policy.maxAgeMs && !live(e.name))
    .map((e) => e.name);
}

/**
 * Removes the log folders (`<logsDir>/<build id>/`) the policy no longer keeps. A folder's age is
 * that of its newest file (a step's log is appended to as it runs); the logs of `running` builds
 * are never removed.
 */
export async function pruneBuildLogs(
  logsDir: string,
  policy: RetentionPolicy,
  running: Set<string>,
  now = Date.now(),
): Promise<{ removed: string[]; kept: number }> {
  const dirs = (await readdir(logsDir, { withFileTypes: true }).catch(() => [])).filter((d) =>
    d.isDirectory(),
  );
  const entries: AgedEntry[] = [];
  for (const d of dirs) {
    const path = join(logsDir, d.name);
    let mtimeMs = -1;
    for (const f of await readdir(path).catch(() => [])) {
      mtimeMs = Math.max(mtimeMs, (await stat(join(path, f)).catch(() => null))?.mtimeMs ?? -1);
    }
    // A folder with no log yet is as old as the folder.
    if (mtimeMs < 0) mtimeMs = (await stat(path).catch(() => null))?.mtimeMs ?? now;
    entries.push({ name: d.name, mtimeMs });
  }
  const removed = expired(entries, policy, now, (id) => running.has(id));
  for (const id of removed) await rm(join(logsDir, id), { recursive: true, force: true });
  return { removed, kept: entries.length - removed.length };
}

/** Rotated server logs: at most `keep` files besides the one in use, none older than `maxAgeMs`. */
export interface ServerLogPolicy {
  keep: number;
  maxAgeMs: number;
}

/**
 * Removes rotated server log files (`gantry.3.log` beside `--log-file gantry.log`) beyond the
 * policy's count or older than its age; the file in use (the highest number) always stays.
 */
export async function pruneServerLogs(
  logFile: string,
  policy: ServerLogPolicy,
  now = Date.now(),
): Promise<{ removed: string[]; kept: number }> {
  const dir = dirname(logFile);
  const ext = extname(logFile);
  const base = basename(logFile, ext);
  const numbered = new RegExp(`^${escapeRegExp(base)}\\.(\\d+)${escapeRegExp(ext)}$`);
  const number = (f: string) => Number(numbered.exec(f)?.[1] ?? -1);
  const files = (await readdir(dir).catch(() => [])).filter((f) => numbered.test(f));
  const newestFirst = files.sort((a, b) => number(b) - number(a));
  const removed: string[] = [];
  for (const [i, f] of newestFirst.entries()) {
    if (i === 0) continue;
    const mtimeMs = (await stat(join(dir, f)).catch(() => null))?.mtimeMs ?? now;
    if (i > policy.keep || now - mtimeMs > policy.maxAgeMs) removed.push(f);
  }
  for (const f of removed) await rm(join(dir, f), { force: true });
  return { removed, kept: files.length - removed.length };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export interface LogRetentionOptions {
  logsDir: string;
  buildLogs: RetentionPolicy;
  /** Ids of the builds running now (on any server). */
  running: () => Promise<Set<string>>;
  serverLog?: { file: string; policy: ServerLogPolicy };
  /** The database's copies of step logs (several servers on PostgreSQL), pruned by the same policy. */
  shared?: { prune(policy: RetentionPolicy, running: Set<string>): Promise<string[]> };
  logger: Logger;
  intervalMs?: number;
}

/** Prunes build logs and rotated server logs at start and then every hour; says what it removed. */
export class LogRetention {
  private timer: NodeJS.Timeout | undefined;
  private pass: Promise<void> = Promise.resolve();

  constructor(private readonly o: LogRetentionOptions) {}

  start(): void {
    this.pass = this.prune();
    this.timer = setInterval(() => {
      this.pass = this.pass.then(() => this.prune());
    }, this.o.intervalMs ?? 3_600_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.pass;
  }

  /** One pass; errors are logged, never thrown (retention must not stop the server). */
  async prune(): Promise<void> {
    try {
      const running = await this.o.running();
      const builds = await pruneBuildLogs(this.o.logsDir, this.o.buildLogs, running);
      const shared = (await this.o.shared?.prune(this.o.buildLogs, running)) ?? [];
      if (shared.length > 0)
        this.o.logger.info(
          { removed: shared },
          `build logs: removed ${shared.length} builds' logs from the database`,
        );
      if (builds.removed.length > 0)
        this.o.logger.info(
          { removed: builds.removed, kept: builds.kept, policy: this.o.buildLogs },
          `build logs: removed the logs of ${builds.removed.length} build${builds.removed.length === 1 ? '' : 's'}`,
        );
      if (this.o.serverLog) {
        const logs = await pruneServerLogs(this.o.serverLog.file, this.o.serverLog.policy);
        if (logs.removed.length > 0)
          this.o.logger.info({ removed: logs.removed, kept: logs.kept }, 'server logs: removed old files');
      }
    } catch (err) {
      this.o.logger.warn({ err }, 'log retention: pruning failed; will retry');
    }
  }
}
