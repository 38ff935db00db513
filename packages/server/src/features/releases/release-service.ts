import type { Release, ReleaseChangeSpec } from '@gantry/contracts';
import type { Logger } from 'pino';
import type { Db } from '../../db/database.js';
import { Conflict, InvalidInput, NotFound } from '../../errors.js';
import type { EventStore } from '../../events/event-store.js';
import { nowIso } from '../../ids.js';
import type { AppService } from '../apps/app-service.js';
import { withRollout } from '../toggles/toggle-rules.js';
import type { ToggleChange, ToggleService } from '../toggles/toggle-service.js';
import { SqlReleaseStore } from './sql-release-store.js';

/**
 * Releases: named bundles of toggle changes across apps and environments. `apply` makes every
 * change in one transaction (one revision per environment), so an SDK sees all of it in one poll or
 * none; `revert` restores exactly the state each toggle had before.
 */
export class ReleaseService {
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly db: Db,
    private readonly apps: AppService,
    private readonly toggles: ToggleService,
    private readonly events: EventStore,
    private readonly logger: Logger,
  ) {}

  private store(db: Db = this.db): SqlReleaseStore {
    return new SqlReleaseStore(db);
  }

  async create(name: string, notes: string, actor: string): Promise<Release> {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(name)) {
      throw new InvalidInput(`release name "${name}" is not valid: letters, digits, ".", "_" and "-"`);
    }
    if (await this.store().findByName(name)) throw new Conflict(`release "${name}" already exists`);
    const r = await this.store().insert(name, notes, actor);
    await this.event('release.created', r, actor, { notes });
    return r;
  }

  list(): Promise<Release[]> {
    return this.store().list();
  }

  async get(name: string): Promise<Release> {
    const r = await this.store().findByName(name);
    if (!r) throw new NotFound(`no release "${name}"; see \`gantry release list\``);
    return r;
  }

  async add(
    name: string,
    appName: string,
    toggle: string,
    env: string,
    change: ReleaseChangeSpec,
    actor: string,
  ) {
    const r = await this.get(name);
    if (r.status !== 'draft' && r.status !== 'scheduled') {
      throw new InvalidInput(
        `release "${name}" is ${r.status}; only a draft or scheduled release can change`,
      );
    }
    if (Object.keys(change).length === 0)
      throw new InvalidInput('a change needs enabled, rollout, strategies or variants');
    if (change.rollout !== undefined && change.strategies !== undefined) {
      throw new InvalidInput('give either rollout or strategies, not both');
    }
    const app = await this.apps.get(appName);
    await this.toggles.get(app, toggle);
    await this.store().addChange(r.id, app.id, toggle, env, change);
    await this.event('release.changed', r, actor, { app: app.name, toggle, env, change });
    return this.get(name);
  }

  async schedule(name: string, at: string, actor: string): Promise<Release> {
    const r = await this.get(name);
    if (r.status !== 'draft' && r.status !== 'scheduled')
      throw new InvalidInput(`release "${name}" is ${r.status}`);
    const when = Date.parse(at);
    if (Number.isNaN(when))
      throw new InvalidInput(`"${at}" is not a time; use ISO 8601, e.g. 2026-12-01T09:00:00Z`);
    if (r.changes.length === 0)
      throw new InvalidInput(`release "${name}" has no changes yet; add some with \`gantry release add\``);
    const scheduledAt = new Date(when).toISOString();
    await this.store().setStatus(r.id, 'scheduled', { scheduledAt });
    await this.event('release.scheduled', r, actor, { at: scheduledAt });
    return this.get(name);
  }

  async apply(name: string, actor: string): Promise<Release> {
    const r = await this.get(name);
    if (r.status !== 'draft' && r.status !== 'scheduled') {
      throw new InvalidInput(`release "${name}" is ${r.status}; it can be applied once`);
    }
    if (r.changes.length === 0) throw new InvalidInput(`release "${name}" has no changes`);
    const changes: ToggleChange[] = [];
    for (const c of r.changes) {
      const app = await this.apps.get(c.app);
      const current = (await this.toggles.get(app, c.toggle)).environments.find((e) => e.env === c.env);
      const strategies =
        c.change.rollout !== undefined
          ? withRollout(current?.strategies ?? [], c.change.rollout, c.toggle)
          : c.change.strategies;
      changes.push({
        app,
        toggle: c.toggle,
        env: c.env,
        patch: {
          ...(c.change.enabled !== undefined && { enabled: c.change.enabled }),
          ...(strategies !== undefined && { strategies }),
          ...(c.change.variants !== undefined && { variants: c.change.variants }),
        },
      });
    }
    await this.toggles.applyChanges(changes, actor, { release: r.name }, async (trx, befores) => {
      const store = this.store(trx);
      for (const [i, before] of befores.entries()) await store.setBefore(r.id, r.changes[i]!.idx, before);
      await store.setStatus(r.id, 'applied', { appliedAt: nowIso(), error: null });
    });
    await this.event('release.applied', r, actor, { changes: r.changes.length });
    return this.get(name);
  }

  async revert(name: string, actor: string): Promise<Release> {
    const r = await this.get(name);
    if (r.status !== 'applied')
      throw new InvalidInput(`release "${name}" is ${r.status}; only an applied release can be reverted`);
    const changes: ToggleChange[] = [];
    for (const c of [...r.changes].reverse()) {
      if (!c.before) continue;
      changes.push({ app: await this.apps.get(c.app), toggle: c.toggle, env: c.env, patch: c.before });
    }
    await this.toggles.applyChanges(changes, actor, { release: r.name, revert: true }, async (trx) => {
      await this.store(trx).setStatus(r.id, 'reverted', { revertedAt: nowIso() });
    });
    await this.event('release.reverted', r, actor, { changes: changes.length });
    return this.get(name);
  }

  /** Applies scheduled releases when their time comes. */
  startScheduler(everyMs = 1_000): void {
    this.timer = setInterval(
      () =>
        void this.applyDue().catch((err: unknown) =>
          this.logger.error({ err }, 'applying due releases failed; will try again'),
        ),
      everyMs,
    );
    this.timer.unref();
  }

  stopScheduler(): void {
    clearInterval(this.timer);
  }

  async applyDue(now = nowIso()): Promise<string[]> {
    const applied: string[] = [];
    for (const name of await this.store().due(now)) {
      try {
        await this.apply(name, 'scheduler');
        applied.push(name);
      } catch (err) {
        const r = await this.get(name);
        await this.store().setStatus(r.id, 'failed', {
          error: err instanceof Error ? err.message : String(err),
        });
        this.logger.error({ err, release: name }, 'a scheduled release failed; nothing of it was applied');
      }
    }
    return applied;
  }

  private event(
    type:
      | 'release.created'
      | 'release.changed'
      | 'release.scheduled'
      | 'release.applied'
      | 'release.reverted',
    r: Release,
    actor: string,
    data: Record<string, unknown>,
  ) {
    return this.events.append({
      type,
      appId: null,
      subject: r.name,
      actor,
      data: { release: r.id, ...data },
    });
  }
}
