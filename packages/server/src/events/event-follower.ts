import type { EventType, GantryEvent } from '@gantry/contracts';
import type { EventStore } from './event-store.js';

/** How long a missing id right before a recent event may still commit before a reader passes it. */
export const HOLD_MS = 3_000;

export interface FollowFilter {
  appId?: string;
  subject?: string;
  types?: EventType[];
}

/**
 * One reader's place in the event log (an SSE stream), kept in id order without skipping an event
 * whose transaction commits after a later one's. On PostgreSQL an id is taken from the sequence when
 * a transaction inserts, not when it commits: a reader that moved its cursor past a missing id would
 * never see that event. So the log is read whole (the filter applies here, not in SQL, since a gap
 * is only visible in the unfiltered ids), and the reader stops before a gap whose next event is
 * recent, until the gap fills or that event is {@link HOLD_MS} old (a rolled-back transaction leaves
 * a gap for good; so do events deleted long ago, which are old and never hold anything up).
 */
export class EventFollower {
  #after: number;

  constructor(
    private readonly events: Pick<EventStore, 'list'>,
    after: number,
    private readonly filter: FollowFilter = {},
    private readonly now: () => number = Date.now,
  ) {
    this.#after = after;
  }

  /** The id of the last event passed (sent or filtered out): a stream's resume point. */
  get after(): number {
    return this.#after;
  }

  /**
   * The next events to send, in id order. `more`: a full batch was read and passed, read again now;
   * `heldMs`: the reader waits at a gap, for at most this long unless an event comes first.
   */
  async next(limit = 500): Promise<{ events: GantryEvent[]; more: boolean; heldMs: number }> {
    const batch = await this.events.list({ after: this.#after, limit });
    const out: GantryEvent[] = [];
    const now = this.now();
    for (const e of batch) {
      if (e.id > this.#after + 1) {
        const age = now - Date.parse(e.createdAt);
        if (age < HOLD_MS) return { events: out, more: false, heldMs: Math.max(10, HOLD_MS - age) };
      }
      this.#after = e.id;
      if (this.matches(e)) out.push(e);
    }
    return { events: out, more: batch.length === limit, heldMs: 0 };
  }

  private matches(e: GantryEvent): boolean {
    const f = this.filter;
    return (
      (f.appId === undefined || e.appId === f.appId) &&
      (f.subject === undefined || e.subject === f.subject) &&
      (!f.types?.length || f.types.includes(e.type))
    );
  }
}
