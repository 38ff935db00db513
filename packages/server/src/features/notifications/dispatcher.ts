import type { GantryEvent } from '@gantry/contracts';
import type { Logger } from 'pino';
import { Conflict } from '../../errors.js';
import type { EventBus } from '../../events/event-bus.js';
import type { EventStore } from '../../events/event-store.js';
import { newId, nowIso } from '../../ids.js';
import { retryAfterMs, retryDelay } from './backoff.js';
import type { Channel } from './channel.js';
import type {
  AttemptRecord,
  CursorHole,
  DeliveryOutcome,
  DeliveryRecord,
  DeliveryStore,
} from './delivery-store.js';
import { sendRequest } from './http-sender.js';
import { maskUrl } from './webhook-url.js';

const CURSOR = 'notifications';
/** Events planned per round; a longer backlog is planned round after round without waiting. */
const BATCH = 200;
/** The longest sleep between rounds: deliveries whose backoff ended are picked up within it. */
const POLL_MS = 1000;
/** A claimed delivery is due again after this if its attempt never finishes (the server died). */
const LEASE_MS = 120_000;
/** How long an id the log skipped is looked for again (a transaction may still commit it). */
const HOLE_WAIT_MS = 30_000;
const MAX_HOLES = 200;
/** On stop, attempts in flight get this long to finish before they are cut off (and retried later). */
const STOP_GRACE_MS = 2000;
/** The start of an answer kept in the delivery log. */
const EXCERPT = 2048;

export interface DispatcherDeps {
  store: DeliveryStore;
  events: Pick<EventStore, 'list' | 'lastId'>;
  bus: Pick<EventBus, 'subscribe'>;
  channels: Channel[];
  logger: Logger;
  /** The wait after a first failed attempt (GANTRY_WEBHOOK_BACKOFF_MS), doubled after each next one. */
  backoffMs: number;
  /** Attempts in flight at once (GANTRY_WEBHOOK_CONCURRENCY). */
  concurrency: number;
  random?: () => number;
}

/**
 * Reads the event log from a cursor kept in the database, turns each event into deliveries (one per
 * matching webhook or forge call), and sends them: at most `concurrency` at once, each bounded by its
 * own timeout, retried with backoff. Nothing here runs inside a deployment or a build, so a receiver
 * that is down or slow delays only its own deliveries. The event bus only wakes the loop early.
 */
export class NotificationDispatcher {
  private readonly inFlight = new Map<string, Promise<unknown>>();
  private readonly stopAc = new AbortController();
  private stopping = false;
  private loop?: Promise<void>;
  private unsubscribe?: () => void;
  private wakeUp?: () => void;

  constructor(private readonly d: DispatcherDeps) {}

  async start(): Promise<void> {
    // The first start after migration 014: deliver what happens from now on, not the whole history.
    if (!(await this.d.store.cursor(CURSOR)))
      await this.d.store.saveCursor(CURSOR, { after: await this.d.events.lastId(), holes: [] });
    this.unsubscribe = this.d.bus.subscribe(() => this.wake());
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.unsubscribe?.();
    this.wake();
    await this.loop;
    const pending = [...this.inFlight.values()];
    if (pending.length) {
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise((r) => {
        timer = setTimeout(r, STOP_GRACE_MS);
      });
      await Promise.race([Promise.allSettled(pending), grace]);
      clearTimeout(timer);
      this.stopAc.abort();
      await Promise.allSettled(pending);
    }
  }

  /** Runs the loop now instead of at its next round (a webhook added, a redelivery asked). */
  wake(): void {
    this.wakeUp?.();
  }

  /**
   * Sends a delivery again now, whatever its status, and records the attempt as a redelivery. A
   * pending one being sent at this very moment is refused (409) rather than sent twice at once.
   */
  async redeliver(id: string, delivery: DeliveryRecord): Promise<AttemptRecord | null> {
    if (delivery.status === 'pending' && !(await this.d.store.claim(delivery, lease())))
      throw new Conflict(`delivery ${id} is being sent right now; look at its attempts in a moment`);
    return this.attempt(delivery, true);
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      let wait = POLL_MS;
      try {
        const more = await this.planNew();
        wait = more ? 0 : await this.launchDue();
      } catch (err) {
        this.d.logger.error({ err }, 'notifications: a round failed; trying again');
      }
      if (!this.stopping && wait > 0) await this.sleep(wait);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = done;
    });
  }

  /** Plans the deliveries of events after the cursor; true when a full batch was read (more may wait). */
  private async planNew(): Promise<boolean> {
    const cursor = (await this.d.store.cursor(CURSOR)) ?? { after: 0, holes: [] };
    const batch = await this.d.events.list({ after: cursor.after, limit: BATCH });
    const now = Date.now();
    const { found, holes } = await this.recheckHoles(cursor.holes, now);
    let expected = cursor.after + 1;
    for (const e of batch) {
      for (let id = expected; id < e.id && holes.length < MAX_HOLES; id++) holes.push({ id, since: now });
      expected = e.id + 1;
    }
    const events = [...found, ...batch];
    if (events.length) {
      const planned = (await Promise.all(this.d.channels.map((c) => c.plan(events)))).flat();
      await this.d.store.insert(planned, nowIso());
    }
    if (batch.length || holes.length !== cursor.holes.length || found.length)
      await this.d.store.saveCursor(CURSOR, { after: batch.at(-1)?.id ?? cursor.after, holes });
    return batch.length === BATCH;
  }

  /** Ids the log skipped before: those that appeared since are planned now; the others wait a while. */
  private async recheckHoles(
    holes: CursorHole[],
    now: number,
  ): Promise<{ found: GantryEvent[]; holes: CursorHole[] }> {
    if (holes.length === 0) return { found: [], holes: [] };
    const ids = new Set(holes.map((h) => h.id));
    const first = Math.min(...ids);
    const span = Math.max(...ids) - first + 1;
    const seen = (await this.d.events.list({ after: first - 1, limit: Math.min(span, 500) })).filter((e) =>
      ids.has(e.id),
    );
    const seenIds = new Set(seen.map((e) => e.id));
    return {
      found: seen,
      holes: holes.filter((h) => !seenIds.has(h.id) && now - h.since < HOLE_WAIT_MS),
    };
  }

  /** Starts the due deliveries there is room for; returns how long to sleep before the next round. */
  private async launchDue(): Promise<number> {
    const room = this.d.concurrency - this.inFlight.size;
    if (room > 0) {
      for (const delivery of await this.d.store.due(nowIso(), room)) {
        if (this.stopping) break;
        if (this.inFlight.has(delivery.id) || !(await this.d.store.claim(delivery, lease()))) continue;
        const run = this.attempt(delivery, false)
          .catch((err: unknown) =>
            this.d.logger.error({ err, delivery: delivery.id }, 'notifications: an attempt failed to run'),
          )
          .finally(() => {
            this.inFlight.delete(delivery.id);
            this.wake();
          });
        this.inFlight.set(delivery.id, run);
      }
    }
    const next = await this.d.store.nextDueAt();
    const until = next ? Date.parse(next) - Date.now() : POLL_MS;
    // A delivery due already waits for room or for the one before it: a finished attempt wakes the loop.
    return until <= 0 ? POLL_MS : Math.min(POLL_MS, Math.max(10, until));
  }

  private async attempt(d: DeliveryRecord, redelivery: boolean): Promise<AttemptRecord | null> {
    const channel = this.d.channels.find((c) => c.owns(d.target));
    const event = await this.event(d.eventId);
    if (!channel || !event) {
      await this.skip(
        d,
        !event ? `event ${d.eventId} is no longer in the log` : `no channel for ${d.target}`,
      );
      return null;
    }
    const startedAt = nowIso();
    let prepared: Awaited<ReturnType<Channel['prepare']>>;
    try {
      prepared = await channel.prepare(d, event);
    } catch (err) {
      // Reading what to send failed (the database, most likely): an attempt that sent nothing, retried.
      const message = err instanceof Error ? err.message : String(err);
      return this.record(
        d,
        redelivery,
        startedAt,
        { method: 'POST', url: '' },
        { status: null, body: Buffer.alloc(0), ms: 0, error: `could not prepare the request: ${message}` },
      );
    }
    if ('skip' in prepared) {
      await this.skip(d, prepared.skip);
      return null;
    }
    const res = await sendRequest(prepared.request, this.stopAc.signal);
    if (res.status !== null && res.status >= 200 && res.status < 300 && channel.delivered) {
      await channel
        .delivered(d, event, res.body)
        .catch((err: unknown) =>
          this.d.logger.warn(
            { err, delivery: d.id },
            'notifications: could not keep what the receiver answered',
          ),
        );
    }
    return this.record(d, redelivery, startedAt, prepared.request, res);
  }

  private async record(
    d: DeliveryRecord,
    redelivery: boolean,
    startedAt: string,
    req: { method: string; url: string },
    res: Awaited<ReturnType<typeof sendRequest>>,
  ): Promise<AttemptRecord> {
    const ok = res.status !== null && res.status >= 200 && res.status < 300;
    const number = d.attempts + 1;
    const attempt: AttemptRecord = {
      id: newId('att'),
      deliveryId: d.id,
      number,
      redelivery,
      startedAt,
      ms: res.ms,
      method: req.method,
      url: req.url ? maskUrl(req.url) : '',
      responseStatus: res.status,
      responseBody: res.body.length
        ? res.body.subarray(0, EXCERPT).toString('utf8') + (res.body.length > EXCERPT ? '…' : '')
        : null,
      error: res.error,
    };
    await this.d.store.recordAttempt(attempt, d.appId);
    await this.d.store.finish(d.id, this.outcome(d, number, ok, res, redelivery));
    if (!ok)
      this.d.logger.info(
        { delivery: d.id, target: d.target, attempt: number, status: res.status, error: res.error },
        'notifications: an attempt failed',
      );
    return attempt;
  }

  private outcome(
    d: DeliveryRecord,
    number: number,
    ok: boolean,
    res: { status: number | null; error: string | null; retryAfter?: string | null },
    redelivery: boolean,
  ): DeliveryOutcome {
    const last = { attempts: number, lastStatus: res.status, lastError: res.error };
    if (ok) return { ...last, status: 'succeeded', nextAttemptAt: nowIso() };
    // A redelivery by hand that fails leaves a finished delivery as it was.
    if (redelivery && d.status !== 'pending')
      return { ...last, status: d.status, nextAttemptAt: d.nextAttemptAt };
    const stopped = this.stopAc.signal.aborted;
    if (number >= d.maxAttempts && !stopped) return { ...last, status: 'failed', nextAttemptAt: nowIso() };
    const wait = stopped
      ? 0
      : Math.max(retryDelay(number, this.d.backoffMs, this.d.random), retryAfterMs(res.retryAfter) ?? 0);
    return { ...last, status: 'pending', nextAttemptAt: new Date(Date.now() + wait).toISOString() };
  }

  private async skip(d: DeliveryRecord, why: string): Promise<void> {
    await this.d.store.finish(d.id, {
      status: d.status === 'pending' ? 'skipped' : d.status,
      attempts: d.attempts,
      nextAttemptAt: nowIso(),
      lastStatus: d.lastStatus,
      lastError: why,
    });
  }

  private async event(id: number): Promise<GantryEvent | undefined> {
    const [e] = await this.d.events.list({ after: id - 1, limit: 1 });
    return e?.id === id ? e : undefined;
  }
}

function lease(): string {
  return new Date(Date.now() + LEASE_MS).toISOString();
}
