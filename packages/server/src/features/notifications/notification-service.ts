import { InvalidInput, NotFound } from '../../errors.js';
import type { EventStore } from '../../events/event-store.js';
import type { AppService } from '../apps/app-service.js';
import type { AttemptRecord, DeliveryRecord, DeliveryStatus, DeliveryStore } from './delivery-store.js';
import type { NotificationDispatcher } from './dispatcher.js';
import { checkEventFilter, DEFAULT_EVENT_FILTER } from './event-filter.js';
import type { Attempt, Delivery, NewWebhookInput, Webhook } from './notification-schemas.js';
import { appName } from './webhook-channel.js';
import type { WebhookRecord, WebhookStore } from './webhook-store.js';
import { checkReceiverUrl, maskUrl } from './webhook-url.js';

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_ATTEMPTS = 5;

export interface NotificationDeps {
  webhooks: WebhookStore;
  deliveries: DeliveryStore;
  apps: Pick<AppService, 'get' | 'getById'>;
  events: Pick<EventStore, 'append' | 'lastId'>;
  dispatcher: Pick<NotificationDispatcher, 'redeliver' | 'wake'>;
}

export interface DeliveryFilter {
  status?: DeliveryStatus;
  before?: string;
  limit?: number;
}

/** Webhooks and the log of what was sent, as the API shows them: secrets never leave. */
export class NotificationService {
  constructor(private readonly d: NotificationDeps) {}

  async addWebhook(input: NewWebhookInput, actor: string): Promise<Webhook> {
    const url = checkReceiverUrl(input.url);
    const app = input.app ? await this.d.apps.get(input.app) : null;
    const events = input.events ? checkEventFilter(input.events) : DEFAULT_EVENT_FILTER;
    if (input.secret !== undefined && input.secret.trim() !== input.secret)
      throw new InvalidInput('secret: leading or trailing spaces would be signed too; remove them');
    const record = await this.d.webhooks.insert({
      appId: app?.id ?? null,
      url,
      events,
      format: input.format ?? 'gantry',
      secret: input.secret ?? null,
      timeoutMs: input.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      maxAttempts: input.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
      afterEventId: await this.d.events.lastId(),
      createdBy: actor,
    });
    const view = await this.view(record);
    await this.d.events.append({
      type: 'webhook.added',
      appId: record.appId,
      subject: record.id,
      actor,
      data: { url: view.url, events: view.events, format: view.format, signed: view.signed },
    });
    this.d.dispatcher.wake();
    return view;
  }

  /** Oldest first; with `app`, that app's own webhooks (not the server-wide ones). */
  async listWebhooks(q: { app?: string } = {}): Promise<Webhook[]> {
    const appId = q.app ? (await this.d.apps.get(q.app)).id : undefined;
    const records = await this.d.webhooks.list({ appId });
    const counts = await this.d.deliveries.counts(records.map((r) => r.id));
    return Promise.all(records.map((r) => this.view(r, counts.get(r.id))));
  }

  async getWebhook(id: string): Promise<Webhook> {
    return this.view(await this.record(id));
  }

  /** Removes a webhook with its delivery log; what is still pending is not sent. */
  async removeWebhook(id: string, actor: string): Promise<Webhook> {
    const record = await this.record(id);
    const view = await this.view(record);
    if (!(await this.d.webhooks.remove(id)))
      throw new NotFound(`no webhook "${id}"; see \`gantry webhooks list\``);
    await this.d.deliveries.removeTarget(id);
    await this.d.events.append({
      type: 'webhook.removed',
      appId: record.appId,
      subject: id,
      actor,
      data: { url: view.url },
    });
    return view;
  }

  async webhookDeliveries(id: string, f: DeliveryFilter = {}): Promise<Delivery[]> {
    await this.record(id);
    return this.deliveries({ target: id, ...f });
  }

  /** Newest first, each with its attempts. */
  async deliveries(q: DeliveryFilter & { target: string }): Promise<Delivery[]> {
    const list = await this.d.deliveries.list(q);
    const attempts = await this.d.deliveries.attemptsOf(list.map((d) => d.id));
    return Promise.all(
      list.map((d) =>
        this.deliveryView(
          d,
          attempts.filter((a) => a.deliveryId === d.id),
        ),
      ),
    );
  }

  async getDelivery(id: string): Promise<Delivery> {
    const d = await this.delivery(id);
    return this.deliveryView(d, await this.d.deliveries.attemptsOf([id]));
  }

  /** A new attempt now, recorded with the others. */
  async redeliver(id: string): Promise<{ delivery: Delivery; attempt: Attempt | null }> {
    const d = await this.delivery(id);
    const attempt = await this.d.dispatcher.redeliver(id, d);
    const delivery = await this.getDelivery(id);
    if (!attempt) return { delivery, attempt: null };
    const { deliveryId: _, ...shown } = attempt;
    return { delivery, attempt: shown };
  }

  private async record(id: string): Promise<WebhookRecord> {
    const record = await this.d.webhooks.find(id);
    if (!record) throw new NotFound(`no webhook "${id}"; see \`gantry webhooks list\``);
    return record;
  }

  private async delivery(id: string): Promise<DeliveryRecord> {
    const d = await this.d.deliveries.find(id);
    if (!d) throw new NotFound(`no delivery "${id}"; see \`gantry webhooks deliveries <webhook>\``);
    return d;
  }

  private async view(r: WebhookRecord, counts?: Webhook['deliveries']): Promise<Webhook> {
    return {
      id: r.id,
      app: await appName(this.d.apps, r.appId),
      url: maskUrl(r.url),
      events: r.events,
      format: r.format,
      signed: r.secret !== null,
      timeoutMs: r.timeoutMs,
      maxAttempts: r.maxAttempts,
      createdAt: r.createdAt,
      createdBy: r.createdBy,
      deliveries: counts ??
        (await this.d.deliveries.counts([r.id])).get(r.id) ?? {
          pending: 0,
          succeeded: 0,
          failed: 0,
          skipped: 0,
        },
    };
  }

  private async deliveryView(d: DeliveryRecord, attempts: AttemptRecord[]): Promise<Delivery> {
    return {
      id: d.id,
      target: d.target,
      app: await appName(this.d.apps, d.appId),
      event: { id: d.eventId, type: d.eventType },
      action: d.action,
      status: d.status,
      attemptCount: d.attempts,
      maxAttempts: d.maxAttempts,
      nextAttemptAt: d.status === 'pending' ? d.nextAttemptAt : null,
      lastStatus: d.lastStatus,
      lastError: d.lastError,
      createdAt: d.createdAt,
      updatedAt: d.updatedAt,
      attempts: attempts.map(({ deliveryId: _, ...a }) => a),
    };
  }
}
