import type { EventType, GantryEvent, NewEvent } from '@gantry/contracts';
import type { Selectable } from 'kysely';
import type { Db } from '../db/database.js';
import type { EventsTable } from '../db/schema.js';
import { nowIso } from '../ids.js';
import type { EventBus } from './event-bus.js';
import type { EventQuery, EventStore } from './event-store.js';

export class SqlEventStore implements EventStore {
  constructor(
    private readonly db: Db,
    /** Told of each appended event; inside a transaction, pass a collector and publish after commit. */
    private readonly bus?: Pick<EventBus, 'publish'>,
  ) {}

  async append(event: NewEvent): Promise<GantryEvent> {
    const createdAt = nowIso();
    const row = await this.db
      .insertInto('events')
      .values({
        type: event.type,
        app_id: event.appId,
        subject: event.subject,
        actor: event.actor,
        data: JSON.stringify(event.data),
        created_at: createdAt,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const stored: GantryEvent = { ...event, id: Number(row.id), createdAt };
    this.bus?.publish(stored);
    return stored;
  }

  async list(q: EventQuery): Promise<GantryEvent[]> {
    let query = this.db
      .selectFrom('events')
      .selectAll()
      .orderBy('id', 'asc')
      .limit(q.limit ?? 500);
    if (q.after !== undefined) query = query.where('id', '>', q.after);
    if (q.appId) query = query.where('app_id', '=', q.appId);
    if (q.subject) query = query.where('subject', '=', q.subject);
    if (q.types?.length) query = query.where('type', 'in', q.types);
    return (await query.execute()).map(toEvent);
  }

  /** These events, oldest first (the cluster relay reads what another server announced). */
  async byIds(ids: readonly number[]): Promise<GantryEvent[]> {
    if (ids.length === 0) return [];
    const rows = await this.db
      .selectFrom('events')
      .selectAll()
      .where('id', 'in', ids)
      .orderBy('id')
      .execute();
    return rows.map(toEvent);
  }

  /** Events after `after` with the server that appended each (null: none, or before migration 023). */
  async withOrigins(after: number, limit: number): Promise<{ event: GantryEvent; origin: string | null }[]> {
    const rows = await this.db
      .selectFrom('events')
      .selectAll()
      .where('id', '>', after)
      .orderBy('id', 'asc')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ event: toEvent(r), origin: r.origin }));
  }

  async lastId(): Promise<number> {
    const row = await this.db
      .selectFrom('events')
      .select((eb) => eb.fn.max('id').as('max'))
      .executeTakeFirst();
    return Number(row?.max ?? 0);
  }
}

function toEvent(r: Selectable<EventsTable>): GantryEvent {
  return {
    id: Number(r.id),
    type: r.type as EventType,
    appId: r.app_id,
    subject: r.subject,
    actor: r.actor,
    data: JSON.parse(r.data) as Record<string, unknown>,
    createdAt: r.created_at,
  };
}
