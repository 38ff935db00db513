import { z } from 'zod';
import type { EventStore } from '../../events/event-store.js';
import { nowIso } from '../../ids.js';
import type { AppService } from '../apps/app-service.js';
import { checkForgeInput, type ForgeInput, type ForgeSettings, forgeProviders } from './forge-settings.js';
import type { ForgeStore } from './forge-store.js';

/** An app's forge settings as the API shows them: the token is never returned, only that one is kept. */
export const forgeViewSchema = z.object({
  provider: z.enum(forgeProviders),
  apiUrl: z.string(),
  repo: z.string(),
  productionEnvironments: z.array(z.string()),
  token: z.literal('stored').describe('write-only: never returned'),
  updatedAt: z.string(),
  updatedBy: z.string(),
});
export type ForgeView = z.infer<typeof forgeViewSchema>;

export interface ForgeServiceDeps {
  store: ForgeStore;
  apps: Pick<AppService, 'get'>;
  events: Pick<EventStore, 'append' | 'lastId'>;
}

function view(s: ForgeSettings): ForgeView {
  return {
    provider: s.provider,
    apiUrl: s.apiUrl,
    repo: s.repo,
    productionEnvironments: s.productionEnvironments,
    token: 'stored',
    updatedAt: s.updatedAt,
    updatedBy: s.updatedBy,
  };
}

/** Where each app's commit statuses and deployments go; every change is an `app.forge_changed` event. */
export class ForgeService {
  constructor(private readonly d: ForgeServiceDeps) {}

  async get(appRef: string): Promise<ForgeView | null> {
    const app = await this.d.apps.get(appRef);
    const s = await this.d.store.find(app.id);
    return s ? view(s) : null;
  }

  /** Sets the app's forge; without a token the stored one stays. */
  async set(appRef: string, input: ForgeInput, actor: string): Promise<ForgeView> {
    const app = await this.d.apps.get(appRef);
    const stored = await this.d.store.find(app.id);
    const checked = checkForgeInput(input, stored?.token);
    const settings: ForgeSettings = {
      ...checked,
      appId: app.id,
      afterEventId: await this.d.events.lastId(),
      updatedAt: nowIso(),
      updatedBy: actor,
    };
    await this.d.store.save(settings);
    const shown = view(settings);
    await this.d.events.append({
      type: 'app.forge_changed',
      appId: app.id,
      subject: app.id,
      actor,
      data: { forge: shown },
    });
    return shown;
  }

  /** Forgets the app's forge: nothing more is sent there (what is pending is skipped). */
  async clear(appRef: string, actor: string): Promise<null> {
    const app = await this.d.apps.get(appRef);
    if (await this.d.store.remove(app.id))
      await this.d.events.append({
        type: 'app.forge_changed',
        appId: app.id,
        subject: app.id,
        actor,
        data: { forge: null },
      });
    return null;
  }
}
