import type { Selectable } from 'kysely';
import type { Db } from '../../db/database.js';
import type { NotificationAttemptsTable, NotificationDeliveriesTable } from '../../db/schema.js';
import { newId, nowIso } from '../../ids.js';
import type { PlannedDelivery } from './channel.js';
import type {
  AttemptRecord,
  DeliveryCounts,
  DeliveryOutcome,
  DeliveryQuery,
  DeliveryRecord,
  DeliveryStatus,
  DeliveryStore,
  EventCursor,
} from './delivery-store.js';

export class SqlDeliveryStore implements DeliveryStore {
  constructor(private readonly db: Db) {}

  async cursor(name: string): Promise<EventCursor | undefined> {
    const row = await this.db
      .selectFrom('notification_cursors')
      .selectAll()
      .where('name', '=', name)
      .executeTakeFirst();
    return row && { after: Number(row.after_event_id), holes: JSON.parse(row.holes) as EventCursor['holes'] };
  }

  async saveCursor(name: string, c: EventCursor): Promise<void> {
    const values = { after_event_id: c.after, holes: JSON.stringify(c.holes), updated_at: nowIso() };
    await this.db
      .insertInto('notification_cursors')
      .values({ name, ...values })
      .onConflict((oc) =>
        oc
          .column('name')
          .doUpdateSet(values)
          // Another server may have read further: never move back.
          .where('notification_cursors.after_event_id', '<=', c.after),
      )
      .execute();
  }

  async insert(planned: PlannedDelivery[], dueAt: string): Promise<void> {
    if (planned.length === 0) return;
    const now = nowIso();
    // Chunks keep each statement under SQLite's bound-parameter limit.
    for (let i = 0; i < planned.length; i += 50) {
      await this.db
        .insertInto('notification_deliveries')
        .values(
          planned.slice(i, i + 50).map((p) => ({
            id: newId('dlv'),
            target: p.target,
            app_id: p.appId,
            event_id: p.eventId,
            event_type: p.eventType,
            action: p.action,
            ordering_key: p.orderingKey,
            status: 'pending',
            attempts: 0,
            max_attempts: p.maxAttempts,
            next_attempt_at: dueAt,
            last_status: null,
            last_error: null,
            created_at: now,
            updated_at: now,
          })),
        )
        .onConflict((oc) => oc.columns(['target', 'event_id', 'action']).doNothing())
        .execute();
    }
  }

  async due(now: string, limit: number): Promise<DeliveryRecord[]> {
    const rows = await this.db
      .selectFrom('notification_deliveries as d')
      .selectAll('d')
      .where('d.status', '=', 'pending')
      .where('d.next_attempt_at', '<=', now)
      .where((eb) =>
        eb.or([
          eb('d.ordering_key', 'is', null),
          eb.not(
            eb.exists(
              eb
                .selectFrom('notification_deliveries as e')
                .select('e.id')
                .whereRef('e.ordering_key', '=', 'd.ordering_key')
                .where('e.status', '=', 'pending')
                .whereRef('e.id', '<', 'd.id'),
            ),
          ),
        ]),
      )
      .orderBy('d.next_attempt_at')
      .orderBy('d.id')
      .limit(limit)
      .execute();
    return rows.map(toDelivery);
  }

  async nextDueAt(): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('notification_deliveries')
      .select((eb) => eb.fn.min('next_attempt_at').as('at'))
      .where('status', '=', 'pending')
      .executeTakeFirst();
    return row?.at ?? undefined;
  }

  async claim(d: DeliveryRecord, leaseUntil: string): Promise<boolean> {
    const res = await this.db
      .updateTable('notification_deliveries')
      .set({ next_attempt_at: leaseUntil })
      .where('id', '=', d.id)
      .where('status', '=', 'pending')
      .where('next_attempt_at', '=', d.nextAttemptAt)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  async recordAttempt(a: AttemptRecord, appId: string | null): Promise<void> {
    await this.db
      .insertInto('notification_attempts')
      .values({
        id: a.id,
        delivery_id: a.deliveryId,
        app_id: appId,
        number: a.number,
        redelivery: a.redelivery ? 1 : 0,
        started_at: a.startedAt,
        ms: a.ms,
        method: a.method,
        url: a.url,
        response_status: a.responseStatus,
        response_body: a.responseBody,
        error: a.error,
      })
      .execute();
  }

  async finish(id: string, o: DeliveryOutcome): Promise<void> {
    await this.db
      .updateTable('notification_deliveries')
      .set({
        status: o.status,
        attempts: o.attempts,
        next_attempt_at: o.nextAttemptAt,
        last_status: o.lastStatus,
        last_error: o.lastError,
        updated_at: nowIso(),
      })
      .where('id', '=', id)
      .execute();
  }

  async find(id: string): Promise<DeliveryRecord | undefined> {
    const row = await this.db
      .selectFrom('notification_deliveries')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toDelivery(row);
  }

  async list(q: DeliveryQuery): Promise<DeliveryRecord[]> {
    let query = this.db
      .selectFrom('notification_deliveries')
      .selectAll()
      .orderBy('id', 'desc')
      .limit(Math.min(q.limit ?? 50, 500));
    if (q.target) query = query.where('target', '=', q.target);
    if (q.targets)
      query = q.targets.length ? query.where('target', 'in', q.targets) : query.where('id', '=', '');
    if (q.status) query = query.where('status', '=', q.status);
    if (q.before) query = query.where('id', '<', q.before);
    return (await query.execute()).map(toDelivery);
  }

  async attemptsOf(ids: string[]): Promise<AttemptRecord[]> {
    if (ids.length === 0) return [];
    const rows = await this.db
      .selectFrom('notification_attempts')
      .selectAll()
      .where('delivery_id', 'in', ids)
      .orderBy('id')
      .execute();
    return rows.map(toAttempt);
  }

  async counts(targets: string[]): Promise<Map<string, DeliveryCounts>> {
    const out = new Map<string, DeliveryCounts>();
    if (targets.length === 0) return out;
    const rows = await this.db
      .selectFrom('notification_deliveries')
      .select(['target', 'status', (eb) => eb.fn.countAll().as('n')])
      .where('target', 'in', targets)
      .groupBy(['target', 'status'])
      .execute();
    for (const t of targets) out.set(t, { pending: 0, succeeded: 0, failed: 0, skipped: 0 });
    for (const r of rows) {
      const counts = out.get(r.target)!;
      if (r.status in counts) counts[r.status as DeliveryStatus] = Number(r.n);
    }
    return out;
  }

  async removeTarget(target: string): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx
        .deleteFrom('notification_attempts')
        .where(
          'delivery_id',
          'in',
          tx.selectFrom('notification_deliveries').select('id').where('target', '=', target),
        )
        .execute();
      await tx.deleteFrom('notification_deliveries').where('target', '=', target).execute();
    });
  }
}

function toDelivery(r: Selectable<NotificationDeliveriesTable>): DeliveryRecord {
  return {
    id: r.id,
    target: r.target,
    appId: r.app_id,
    eventId: Number(r.event_id),
    eventType: r.event_type,
    action: r.action,
    orderingKey: r.ordering_key,
    status: r.status as DeliveryStatus,
    attempts: r.attempts,
    maxAttempts: r.max_attempts,
    nextAttemptAt: r.next_attempt_at,
    lastStatus: r.last_status,
    lastError: r.last_error,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function toAttempt(r: Selectable<NotificationAttemptsTable>): AttemptRecord {
  return {
    id: r.id,
    deliveryId: r.delivery_id,
    number: r.number,
    redelivery: r.redelivery === 1,
    startedAt: r.started_at,
    ms: r.ms,
    method: r.method,
    url: r.url,
    responseStatus: r.response_status,
    responseBody: r.response_body,
    error: r.error,
  };
}
