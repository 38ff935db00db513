import type { GantryEvent } from '@gantry/contracts';
import type { Logger } from 'pino';
import type { EventBus } from '../events/event-bus.js';
import type { SqlEventStore } from '../events/sql-event-store.js';

export interface EventRelayDeps {
  events: Pick<SqlEventStore, 'byIds' | 'withOrigins' | 'lastId'>;
  bus: Pick<EventBus, 'publish'>;
  /** This server's origin: its own events were published here already, after their commit. */
  origin: string;
  logger: Pick<Logger, 'warn' | 'error'>;
  /** How long an id missing below handled ones may still commit (a transaction in flight). */
  holeWaitMs?: number;
}

/** Remote ids read in one query. */
const BATCH = 500;
/** Handled ids remembered to drop a second sighting (a notification and a catch-up of the same id). */
const RECENT = 50_000;

/**
 * Publishes on this server's bus, marked remote, each event another server appends, exactly once.
 *
 * Live, PostgreSQL announces every committed event (migration 023's trigger): at commit, in commit
 * order, with the appending server's origin, so nothing is skipped while the connection lasts, even
 * though ids come from a sequence in the order transactions began, not committed. When the
 * connection drops, what was announced meanwhile is lost: on reconnect the relay reads the events
 * table from its floor — the id below which every event was handled — and publishes the remote ones
 * it has not. An id missing above the floor is a transaction still in flight (its announcement will
 * come) or one rolled back (none will): after `holeWaitMs` the floor moves past it.
 */
export class EventRelay {
  #floor = 0;
  /** Handled ids above the floor, with when. */
  readonly #handled = new Map<number, number>();
  /** The last handled ids, whatever the floor (insertion order: the oldest first). */
  readonly #recent = new Set<number>();
  readonly #queue: ({ kind: 'ids'; ids: number[] } | { kind: 'catch-up' })[] = [];
  #draining: Promise<void> | undefined;
  #relayed = 0;
  #closed = false;
  readonly #sweeper: NodeJS.Timeout;

  constructor(private readonly d: EventRelayDeps) {
    this.#sweeper = setInterval(() => this.#abandonHoles(Date.now()), 1_000);
    this.#sweeper.unref();
  }

  /** After the first LISTEN: every event committed before it is this server's past, not news. */
  async init(): Promise<void> {
    this.#raiseFloor(await this.d.events.lastId());
  }

  /** An event committed on some server (this one included). */
  announced(id: number, origin: string | null): void {
    if (origin === this.d.origin) {
      this.#mark(id);
      return;
    }
    const last = this.#queue.at(-1);
    if (last?.kind === 'ids' && last.ids.length < BATCH) last.ids.push(id);
    else this.#queue.push({ kind: 'ids', ids: [id] });
    this.#drain();
  }

  /** Listening again after a drop: read what was announced meanwhile. */
  catchUp(): void {
    this.#queue.push({ kind: 'catch-up' });
    this.#drain();
  }

  /** Resolves when everything announced so far was handled. */
  async settled(): Promise<void> {
    while (this.#draining) await this.#draining;
  }

  stats(): { floor: number; relayed: number; pending: number } {
    return { floor: this.#floor, relayed: this.#relayed, pending: this.#handled.size };
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#sweeper);
    this.#queue.length = 0;
    await this.settled();
  }

  #drain(): void {
    if (this.#draining || this.#closed) return;
    this.#draining = (async () => {
      while (this.#queue.length && !this.#closed) {
        const task = this.#queue.shift()!;
        try {
          if (task.kind === 'ids') await this.#relayIds(task.ids);
          else await this.#catchUp();
        } catch (err) {
          // The database is unreachable now: the catch-up after the listener reconnects reads them.
          this.d.logger.error({ err }, 'cluster: could not read events another server announced');
          if (task.kind === 'catch-up' || this.#queue.every((t) => t.kind !== 'catch-up'))
            this.#queue.push({ kind: 'catch-up' });
          await new Promise((r) => setTimeout(r, 500).unref());
        }
      }
    })().finally(() => {
      this.#draining = undefined;
    });
  }

  async #relayIds(ids: number[]): Promise<void> {
    const wanted = ids.filter((id) => !this.#seen(id));
    if (!wanted.length) return;
    const byId = new Map((await this.d.events.byIds(wanted)).map((e) => [e.id, e]));
    // In announcement (commit) order, not id order.
    for (const id of wanted) {
      const e = byId.get(id);
      if (e) this.#publish(e);
      else this.#mark(id); // gone already (retention): nothing to tell
    }
  }

  async #catchUp(): Promise<void> {
    let after = this.#floor;
    for (;;) {
      const rows = await this.d.events.withOrigins(after, BATCH);
      for (const { event, origin } of rows) {
        if (this.#seen(event.id)) continue;
        if (origin === this.d.origin) this.#mark(event.id);
        else this.#publish(event);
      }
      if (rows.length < BATCH || this.#closed) return;
      after = rows.at(-1)!.event.id;
    }
  }

  #publish(e: GantryEvent): void {
    if (this.#seen(e.id)) return;
    this.#mark(e.id);
    this.#relayed++;
    try {
      this.d.bus.publish(e, { remote: true });
    } catch (err) {
      this.d.logger.error({ err, event: e.id }, 'cluster: a listener failed on a relayed event');
    }
  }

  #seen(id: number): boolean {
    return this.#recent.has(id) || this.#handled.has(id);
  }

  #mark(id: number): void {
    this.#recent.add(id);
    if (this.#recent.size > RECENT) this.#recent.delete(this.#recent.values().next().value!);
    if (id <= this.#floor) return;
    this.#handled.set(id, Date.now());
    this.#raiseFloor(this.#floor);
  }

  /** Moves the floor to `to` at least, then over every handled id right above it. */
  #raiseFloor(to: number): void {
    if (to > this.#floor) {
      this.#floor = to;
      for (const id of this.#handled.keys()) if (id <= to) this.#handled.delete(id);
    }
    while (this.#handled.has(this.#floor + 1)) {
      this.#handled.delete(this.#floor + 1);
      this.#floor++;
    }
  }

  /** Ids missing below one handled longer ago than the wait will not come: the floor moves past them. */
  #abandonHoles(now: number): void {
    if (this.#handled.size === 0) return;
    const wait = this.d.holeWaitMs ?? 30_000;
    let to = this.#floor;
    for (const id of [...this.#handled.keys()].sort((a, b) => a - b)) {
      if (id === to + 1 || this.#handled.get(id)! <= now - wait) to = id;
      else break;
    }
    this.#raiseFloor(to);
  }
}
