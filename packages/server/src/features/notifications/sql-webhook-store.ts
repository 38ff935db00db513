import type { Selectable } from 'kysely';
import type { Db } from '../../db/database.js';
import type { WebhookSubscriptionsTable } from '../../db/schema.js';
import { newId, nowIso } from '../../ids.js';
import type { WebhookFormat } from './webhook-format.js';
import type { NewWebhook, WebhookRecord, WebhookStore } from './webhook-store.js';

export class SqlWebhookStore implements WebhookStore {
  constructor(private readonly db: Db) {}

  async insert(w: NewWebhook): Promise<WebhookRecord> {
    const id = newId('whk');
    await this.db
      .insertInto('webhook_subscriptions')
      .values({
        id,
        app_id: w.appId,
        url: w.url,
        events: JSON.stringify(w.events),
        format: w.format,
        secret: w.secret,
        timeout_ms: w.timeoutMs,
        max_attempts: w.maxAttempts,
        after_event_id: w.afterEventId,
        created_at: nowIso(),
        created_by: w.createdBy,
      })
      .execute();
    return (await this.find(id))!;
  }

  async find(id: string): Promise<WebhookRecord | undefined> {
    const row = await this.db
      .selectFrom('webhook_subscriptions')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toWebhook(row);
  }

  async list(q: { appId?: string } = {}): Promise<WebhookRecord[]> {
    let query = this.db.selectFrom('webhook_subscriptions').selectAll().orderBy('id');
    if (q.appId) query = query.where('app_id', '=', q.appId);
    return (await query.execute()).map(toWebhook);
  }

  async remove(id: string): Promise<boolean> {
    const res = await this.db.deleteFrom('webhook_subscriptions').where('id', '=', id).executeTakeFirst();
    return Number(res.numDeletedRows) === 1;
  }
}

function toWebhook(r: Selectable<WebhookSubscriptionsTable>): WebhookRecord {
  return {
    id: r.id,
    appId: r.app_id,
    url: r.url,
    events: JSON.parse(r.events) as string[],
    format: r.format as WebhookFormat,
    secret: r.secret,
    timeoutMs: r.timeout_ms,
    maxAttempts: r.max_attempts,
    afterEventId: Number(r.after_event_id),
    createdAt: r.created_at,
    createdBy: r.created_by,
  };
}
