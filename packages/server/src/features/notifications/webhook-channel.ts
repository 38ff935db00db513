import type { GantryEvent } from '@gantry/contracts';
import type { AppService } from '../apps/app-service.js';
import type { BuildStore } from '../builds/build-store.js';
import type { DeploymentStore } from '../deployments/deployment-store.js';
import type { Channel, PlannedDelivery, Prepared } from './channel.js';
import type { DeliveryRecord } from './delivery-store.js';
import { matchesFilter } from './event-filter.js';
import { consoleLink, gantryBody, signatureHeaders, slackBody } from './webhook-format.js';
import type { WebhookStore } from './webhook-store.js';

export const USER_AGENT = 'Gantry-Notifications/0.1';

export interface WebhookChannelDeps {
  webhooks: WebhookStore;
  apps: Pick<AppService, 'getById'>;
  deployments: Pick<DeploymentStore, 'find'>;
  builds: Pick<BuildStore, 'find'>;
  /** This server's address, for links to the console (known once it listens). */
  baseUrl(): string | undefined;
}

/** The name an app had, also once removed (its row then holds a tombstone `<name>~<id>`). */
export async function appName(
  apps: Pick<AppService, 'getById'>,
  appId: string | null,
): Promise<string | null> {
  if (!appId) return null;
  const app = await apps.getById(appId).catch(() => undefined);
  return app ? app.name.split('~')[0]! : null;
}

/** Outbound webhooks: every subscription whose app and event filter match gets the event. */
export class WebhookChannel implements Channel {
  readonly name = 'webhook';

  constructor(private readonly d: WebhookChannelDeps) {}

  owns(target: string): boolean {
    return target.startsWith('whk_');
  }

  async plan(events: GantryEvent[]): Promise<PlannedDelivery[]> {
    const subscriptions = await this.d.webhooks.list();
    const out: PlannedDelivery[] = [];
    for (const e of events) {
      for (const s of subscriptions) {
        if (e.id <= s.afterEventId || (s.appId && s.appId !== e.appId) || !matchesFilter(s.events, e.type))
          continue;
        out.push({
          eventId: e.id,
          eventType: e.type,
          target: s.id,
          appId: e.appId,
          action: 'webhook',
          orderingKey: null,
          maxAttempts: s.maxAttempts,
        });
      }
    }
    return out;
  }

  async prepare(delivery: DeliveryRecord, e: GantryEvent): Promise<Prepared> {
    const s = await this.d.webhooks.find(delivery.target);
    if (!s) return { skip: 'the webhook was removed' };
    const app = await appName(this.d.apps, e.appId);
    let body: unknown;
    if (s.format === 'slack') {
      const deployment =
        e.subject && e.type.startsWith('deployment.') ? await this.d.deployments.find(e.subject) : undefined;
      const build =
        e.subject && e.type.startsWith('build.') ? await this.d.builds.find(e.subject) : undefined;
      body = slackBody(e, { app, deployment, build }, consoleLink(this.d.baseUrl(), e, app));
    } else {
      body = gantryBody(e, app, delivery.id);
    }
    const bytes = Buffer.from(JSON.stringify(body));
    const timestamp = Math.floor(Date.now() / 1000);
    return {
      request: {
        method: 'POST',
        url: s.url,
        headers: {
          'Content-Type': 'application/json',
          'User-Agent': USER_AGENT,
          'X-Gantry-Event': e.type,
          'X-Gantry-Delivery': delivery.id,
          ...(s.secret
            ? signatureHeaders(s.secret, bytes, timestamp)
            : { 'X-Gantry-Timestamp': String(timestamp) }),
        },
        body: bytes,
        timeoutMs: s.timeoutMs,
      },
    };
  }
}
