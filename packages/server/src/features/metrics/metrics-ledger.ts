import type { Logger } from 'pino';
import type { Db } from '../../db/database.js';
import { isUniqueViolation } from '../../db/db-errors.js';
import type { EventBus } from '../../events/event-bus.js';
import type { CommitEvent, DeploymentFacts } from './engine/index.js';
import { MemoryGraph, MemoryLedgerState, nextFacts } from './engine/index.js';
import {
  type LedgerDeployment,
  SqlGraphSource,
  SqlLedgerState,
  type SqlMetricsStore,
} from './sql-metrics-store.js';

/** From this many deployments to record into an empty ledger, the app's commits are read at once. */
const BULK_FROM = 200;

/**
 * Keeps the metrics ledger: when a deployment succeeds, the facts that need the commit graph (new
 * commits and their lead times, rollback and revert evidence) are computed once and stored, so a
 * year of metrics is read, not recomputed. The ledger is a cache of the deployments and commits
 * tables: `rebuild` recomputes it from them at any time.
 */
export class MetricsLedger {
  readonly #chains = new Map<string, Promise<void>>();
  readonly #unsubscribe: () => void;

  constructor(private readonly d: { db: Db; store: SqlMetricsStore; bus: EventBus; logger: Logger }) {
    // The server that finished the deployment records it (it writes): not every server on the database.
    this.#unsubscribe = d.bus.subscribe(
      (e) => {
        if (e.type !== 'deployment.succeeded' || !e.appId) return;
        const env = String((e.data as { env?: unknown }).env ?? '');
        this.catchUp(e.appId, env).catch((err: unknown) =>
          d.logger.error({ err, appId: e.appId, env }, 'metrics ledger: could not record a deployment'),
        );
      },
      { localOnly: true },
    );
  }

  /** Where the ledger is kept (backfills write to it in bulk with `recordInBulk`). */
  get store(): SqlMetricsStore {
    return this.d.store;
  }

  /** Records the environment's successful deployments the ledger has not seen yet, in finish order. */
  catchUp(appId: string, env: string): Promise<void> {
    const key = `${appId}\u0000${env}`;
    const next = (this.#chains.get(key) ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => this.#catchUp(appId, env));
    this.#chains.set(key, next);
    return next;
  }

  async catchUpAll(): Promise<void> {
    for (const s of await this.d.store.scopes()) await this.catchUp(s.appId, s.env);
  }

  /** Forgets the environment's ledger and records it again from the deployments and commits. */
  async rebuild(appId: string, env: string): Promise<void> {
    await this.d.store.forget(appId, env);
    await this.catchUp(appId, env);
  }

  /**
   * Another server on the same database may record the same deployments at the same time: the
   * ledger's unique keys let one of them win, and the other starts over from what is stored now.
   */
  async #catchUp(appId: string, env: string, attempt = 1): Promise<void> {
    try {
      await this.#record(appId, env);
    } catch (err) {
      if (attempt >= 20 || !isUniqueViolation(err)) throw err;
      this.d.logger.info(
        { appId, env, attempt },
        'metrics ledger: another writer recorded first; reading again',
      );
      // Step aside for a moment, so the other writer gets ahead instead of colliding at every step.
      await new Promise((r) => setTimeout(r, 10 + Math.random() * 40 * attempt));
      await this.#catchUp(appId, env, attempt + 1);
    }
  }

  async #record(appId: string, env: string): Promise<void> {
    if (!(await this.d.store.behind(appId, env))) return;
    const todo = await this.d.store.unrecorded(appId, env);
    if (!todo.length) return;
    const state = new SqlLedgerState(this.d.db, appId, env);
    const last = await this.d.store.lastFinishedAt(appId, env);
    if (last !== null && todo[0]!.finishedAt < last) {
      // A deployment finished before one already recorded (imported history, clock change): the
      // facts depend on order, so record the environment again from the start.
      this.d.logger.warn({ appId, env }, 'metrics ledger: out-of-order deployment, rebuilding');
      await this.d.store.forget(appId, env);
      return this.#record(appId, env);
    }
    if (last === null && todo.length >= BULK_FROM) {
      // A whole history at once (first start after an upgrade, a rebuild): read the app's commits once
      // and walk them in memory, instead of a few queries per deployment.
      await recordInBulk(this.d.store, appId, env, await this.d.store.commitsOf(appId), todo);
      return;
    }
    const graph = new SqlGraphSource(this.d.db, appId);
    for (const d of todo) await this.d.store.record(appId, env, [{ d, f: await nextFacts(d, graph, state) }]);
  }

  /** Waits for recordings in flight (server shutdown). */
  async close(): Promise<void> {
    this.#unsubscribe();
    await Promise.allSettled([...this.#chains.values()]);
  }
}

/**
 * Computes ledger facts for a whole history in memory and stores them in bulk: backfills and the
 * benchmark's year of history, where a query per commit would take minutes.
 */
export async function recordInBulk(
  store: SqlMetricsStore,
  appId: string,
  env: string,
  commits: readonly CommitEvent[],
  deployments: readonly LedgerDeployment[],
  batch = 2000,
): Promise<void> {
  const graph = new MemoryGraph(commits);
  const state = new MemoryLedgerState();
  let pending: { d: LedgerDeployment; f: DeploymentFacts }[] = [];
  for (const d of deployments) {
    const f = await nextFacts(d, graph, state);
    state.append(f);
    pending.push({ d, f });
    if (pending.length >= batch) {
      await store.record(appId, env, pending);
      pending = [];
    }
  }
  if (pending.length) await store.record(appId, env, pending);
}
