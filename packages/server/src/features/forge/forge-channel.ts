import type { GantryEvent } from '@gantry/contracts';
import type { EventStore } from '../../events/event-store.js';
import type { AppService } from '../apps/app-service.js';
import type { BuildStore } from '../builds/build-store.js';
import type { DeploymentStore } from '../deployments/deployment-store.js';
import type { Channel, PlannedDelivery, Prepared } from '../notifications/channel.js';
import type { DeliveryRecord } from '../notifications/delivery-store.js';
import { DEFAULT_MAX_ATTEMPTS, DEFAULT_TIMEOUT_MS } from '../notifications/notification-service.js';
import { appName } from '../notifications/webhook-channel.js';
import { consoleLink } from '../notifications/webhook-format.js';
import { type ForgeApi, idOf } from './forge-api.js';
import { describe, type ForgeFacts, happeningOf } from './forge-facts.js';
import type { ForgeProvider, ForgeSettings } from './forge-settings.js';
import type { ForgeStore } from './forge-store.js';
import { gitea } from './gitea.js';
import { github } from './github.js';
import { gitlab } from './gitlab.js';

const APIS: Record<ForgeProvider, ForgeApi> = { github, gitlab, gitea };

export interface ForgeChannelDeps {
  forge: ForgeStore;
  apps: Pick<AppService, 'getById'>;
  builds: Pick<BuildStore, 'find'>;
  deployments: Pick<DeploymentStore, 'find'>;
  events: Pick<EventStore, 'list'>;
  /** This server's address, for links back to the console (target_url, log_url). */
  baseUrl(): string | undefined;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * Commit statuses and deployments back to each app's forge, through the delivery engine: every
 * call about one commit goes out in order (its ordering key), so a late retry of "pending" never
 * lands after "success"; a deployment's status waits for the forge's id of that deployment.
 */
export class ForgeChannel implements Channel {
  readonly name = 'forge';

  constructor(private readonly d: ForgeChannelDeps) {}

  owns(target: string): boolean {
    return target.startsWith('forge:');
  }

  async plan(events: GantryEvent[]): Promise<PlannedDelivery[]> {
    const relevant = events.filter((e) => e.appId && happeningOf(e.type));
    if (relevant.length === 0) return [];
    const settings = await this.d.forge.findMany([...new Set(relevant.map((e) => e.appId!))]);
    const out: PlannedDelivery[] = [];
    for (const e of relevant) {
      const s = settings.get(e.appId!);
      // What happened before the forge was set (or changed) is not sent, even if planned only now.
      if (!s || e.id <= s.afterEventId) continue;
      const h = happeningOf(e.type)!;
      const sha =
        str(e.data.sha) ??
        (h.kind === 'build' && e.subject ? (await this.d.builds.find(e.subject))?.sha : undefined);
      if (!sha) continue;
      for (const action of APIS[s.provider].actions(h))
        out.push({
          eventId: e.id,
          eventType: e.type,
          target: `forge:${e.appId}`,
          appId: e.appId,
          action: `${s.provider}.${action}`,
          orderingKey: `forge:${e.appId}:${sha}`,
          maxAttempts: DEFAULT_MAX_ATTEMPTS,
        });
    }
    return out;
  }

  async prepare(delivery: DeliveryRecord, e: GantryEvent): Promise<Prepared> {
    const s = e.appId ? await this.d.forge.find(e.appId) : undefined;
    if (!s) return { skip: "the app's forge settings were removed" };
    const [provider, action] = delivery.action.split('.') as [ForgeProvider, string];
    if (provider !== s.provider) return { skip: `the app's forge is ${s.provider} now, not ${provider}` };
    const facts = await this.facts(e, s);
    if (typeof facts === 'string') return { skip: facts };
    const api = APIS[provider];
    const remoteId = facts.deploymentId
      ? await this.d.forge.remoteDeployment(facts.deploymentId, provider)
      : undefined;
    const call = api.call(action, facts, s, remoteId);
    if (typeof call === 'string') return { skip: call };
    return {
      request: {
        method: call.method,
        url: `${s.apiUrl}${call.path}`,
        headers: api.headers(s.token),
        body: Buffer.from(JSON.stringify(call.body)),
        timeoutMs: DEFAULT_TIMEOUT_MS,
      },
    };
  }

  async delivered(delivery: DeliveryRecord, e: GantryEvent, body: Buffer): Promise<void> {
    const [provider, action] = delivery.action.split('.') as [ForgeProvider, string];
    if (!APIS[provider]?.createsDeployment(action) || !e.subject || !e.appId) return;
    const remoteId = idOf(body);
    if (!remoteId) throw new Error(`${provider} answered the new deployment without an id`);
    await this.d.forge.saveRemoteDeployment({ deploymentId: e.subject, provider, appId: e.appId, remoteId });
  }

  /** What the calls say, read from the event and what it is about; a string when that is gone. */
  private async facts(e: GantryEvent, s: ForgeSettings): Promise<ForgeFacts | string> {
    const h = happeningOf(e.type)!;
    const app = await this.d.apps.getById(e.appId!);
    const name = await appName(this.d.apps, e.appId);
    const targetUrl = consoleLink(this.d.baseUrl(), e, name);
    if (h.kind === 'build') {
      const build = e.subject ? await this.d.builds.find(e.subject) : undefined;
      const sha = str(e.data.sha) ?? build?.sha;
      if (!sha) return `build ${e.subject} is no longer known`;
      return {
        ...h,
        sha,
        branch: app.branch,
        env: null,
        deploymentId: null,
        description: describe(e, h, build),
        targetUrl,
        production: false,
      };
    }
    const dep = e.subject ? await this.d.deployments.find(e.subject) : undefined;
    const sha = str(e.data.sha) ?? dep?.sha;
    const env = str(e.data.env) ?? dep?.env;
    if (!sha || !env) return `deployment ${e.subject} is no longer known`;
    return {
      ...h,
      sha,
      branch: app.branch,
      env,
      deploymentId: e.subject,
      description: describe(e, h, dep),
      targetUrl,
      environmentUrl: await this.environmentUrl(e),
      production: s.productionEnvironments.includes(env),
      trigger: str(e.data.trigger) ?? dep?.trigger,
    };
  }

  /** The address the deployment answered at: on its success event, which checks come after. */
  private async environmentUrl(e: GantryEvent): Promise<string | undefined> {
    if (e.type === 'deployment.succeeded') return str(e.data.url);
    if (!['deployment.verifying', 'deployment.verified', 'deployment.check_failed'].includes(e.type))
      return undefined;
    const [succeeded] = await this.d.events.list({
      subject: e.subject ?? '',
      types: ['deployment.succeeded'],
      appId: e.appId ?? undefined,
      limit: 1,
    });
    return str(succeeded?.data.url);
  }
}
