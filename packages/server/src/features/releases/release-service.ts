import type { EventType, Release, ReleaseChange, ReleaseChangeSpec, ReleaseStatus } from '@gantry/contracts';
import type { Logger } from 'pino';
import type { Db } from '../../db/database.js';
import { isConnectionError, isUniqueViolation } from '../../db/db-errors.js';
import { Conflict, InvalidInput, NotFound } from '../../errors.js';
import type { EventStore } from '../../events/event-store.js';
import { nowIso } from '../../ids.js';
import type { AppService } from '../apps/app-service.js';
import { withRollout } from '../toggles/toggle-rules.js';
import type { EnvState, ToggleChange, ToggleService, ToggleTransaction } from '../toggles/toggle-service.js';
import type { EnvironmentPatch } from '../toggles/toggle-store.js';
import { SqlReleaseStore } from './sql-release-store.js';

/** Statuses whose changes may still be edited (added, removed). */
const EDITABLE: readonly ReleaseStatus[] = ['draft', 'scheduled'];
/** Statuses a person may apply from; the scheduler applies only scheduled releases. */
const APPLICABLE: readonly ReleaseStatus[] = ['draft', 'scheduled'];
/** Statuses a release may be cancelled from: anything that has not been applied. */
const CANCELLABLE: readonly ReleaseStatus[] = ['draft', 'scheduled', 'failed'];

/**
 * Releases: named bundles of toggle changes across apps and environments. `apply` makes every
 * change in one transaction (one revision per environment), so an SDK sees all of it in one poll or
 * none; `revert` restores exactly the state each toggle had before.
 *
 * Every status change is one guarded transition (`UPDATE releases SET status = … WHERE id = ? AND
 * status IN (…)`) in the same transaction as the toggle changes and the event it appends: of two
 * applies, reverts or a scheduler and a person racing, exactly one wins and the others get a
 * `Conflict` (409) whose details are the release as it now is. Editing a release's changes holds
 * the same row, so no change can slip in or out while it is applied.
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
      throw new InvalidInput(`release "${name}" is not valid: letters, digits, ".", "_" and "-"`);
    }
    const exists = () => new Conflict(`release "${name}" already exists`);
    if (await this.store().findByName(name)) throw exists();
    let r: Release;
    try {
      r = await this.store().insert(name, notes, actor);
    } catch (err) {
      // Two creates of one name at once: the loser's insert hits the unique name.
      if (isUniqueViolation(err)) throw exists();
      throw err;
    }
    await this.events.append(releaseEvent('release.created', r, actor, { notes }));
    return r;
  }

  list(): Promise<Release[]> {
    return this.store().list();
  }

  async get(name: string): Promise<Release> {
    const r = await this.store().findByName(name);
    if (!r) throw notFound(name);
    return r;
  }

  async add(
    name: string,
    appName: string,
    toggle: string,
    env: string,
    change: ReleaseChangeSpec,
    actor: string,
  ): Promise<Release> {
    await this.get(name);
    if (Object.keys(change).length === 0)
      throw new InvalidInput('a change needs enabled, rollout, strategies or variants');
    if (change.rollout !== undefined && change.strategies !== undefined) {
      throw new InvalidInput('give either rollout or strategies, not both');
    }
    const app = await this.apps.get(appName);
    await this.toggles.get(app, toggle);
    await this.toggles.transaction(async ({ trx, events }) => {
      const store = this.store(trx);
      const id = await this.idOf(store, name);
      if (!(await store.hold(id, EDITABLE))) throw await this.conflict(store, name, 'changed');
      await store.addChange(id, app.id, toggle, env, change);
      const r = (await store.findByName(name))!;
      await events.append(releaseEvent('release.changed', r, actor, { app: app.name, toggle, env, change }));
    });
    return this.get(name);
  }

  /** Takes change number `idx` (as `changes[].idx` shows it) out of a draft or scheduled release. */
  async removeChange(name: string, idx: number, actor: string): Promise<Release> {
    await this.toggles.transaction(async ({ trx, events }) => {
      const store = this.store(trx);
      const id = await this.idOf(store, name);
      if (!(await store.hold(id, EDITABLE))) throw await this.conflict(store, name, 'changed');
      const r = (await store.findByName(name))!;
      const c = r.changes.find((x) => x.idx === idx);
      if (!c) {
        throw new NotFound(
          `release "${name}" has no change ${idx}; its changes are ${r.changes.map((x) => x.idx).join(', ') || 'none'} (see \`gantry release show ${name}\`)`,
        );
      }
      if (r.status === 'scheduled' && r.changes.length === 1) {
        throw new Conflict(
          `change ${idx} is the last of release "${name}", which is scheduled for ${r.scheduledAt}; unschedule it first (\`gantry release unschedule ${name}\`)`,
          r,
        );
      }
      await store.removeChange(id, idx);
      await events.append(
        releaseEvent('release.change_removed', r, actor, {
          idx,
          app: c.app,
          toggle: c.toggle,
          env: c.env,
          change: c.change,
        }),
      );
    });
    return this.get(name);
  }

  async schedule(name: string, at: string, actor: string): Promise<Release> {
    await this.get(name);
    const when = Date.parse(at);
    if (Number.isNaN(when))
      throw new InvalidInput(`"${at}" is not a time; use ISO 8601, e.g. 2026-12-01T09:00:00Z`);
    const scheduledAt = new Date(when).toISOString();
    await this.toggles.transaction(async ({ trx, events }) => {
      const store = this.store(trx);
      const id = await this.idOf(store, name);
      if (!(await store.transition(id, EDITABLE, 'scheduled', { scheduledAt })))
        throw await this.conflict(store, name, 'scheduled');
      const r = (await store.findByName(name))!;
      if (r.changes.length === 0)
        throw new InvalidInput(`release "${name}" has no changes yet; add some with \`gantry release add\``);
      await events.append(releaseEvent('release.scheduled', r, actor, { at: scheduledAt }));
    });
    return this.get(name);
  }

  /** A scheduled release back to a draft: it will not be applied until scheduled or applied again. */
  async unschedule(name: string, actor: string): Promise<Release> {
    await this.toggles.transaction(async ({ trx, events }) => {
      const store = this.store(trx);
      const id = await this.idOf(store, name);
      if (!(await store.hold(id, ['scheduled']))) throw await this.conflict(store, name, 'unscheduled');
      const r = (await store.findByName(name))!;
      await store.transition(id, ['scheduled'], 'draft', { scheduledAt: null });
      await events.append(releaseEvent('release.unscheduled', r, actor, { at: r.scheduledAt }));
    });
    return this.get(name);
  }

  /** Gives a release up before it was applied: a draft, a scheduled or a failed one. */
  async cancel(name: string, actor: string): Promise<Release> {
    await this.toggles.transaction(async ({ trx, events }) => {
      const store = this.store(trx);
      const id = await this.idOf(store, name);
      if (!(await store.hold(id, CANCELLABLE))) throw await this.conflict(store, name, 'cancelled');
      const r = (await store.findByName(name))!;
      await store.transition(id, CANCELLABLE, 'cancelled');
      await events.append(releaseEvent('release.cancelled', r, actor, { from: r.status }));
    });
    return this.get(name);
  }

  async apply(name: string, actor: string): Promise<Release> {
    await this.applyFrom(name, actor, APPLICABLE);
    return this.get(name);
  }

  /**
   * The transition first (which, on PostgreSQL, waits for any other transaction holding the release),
   * then the changes as they are now, read in the same transaction.
   */
  private async applyFrom(
    name: string,
    actor: string,
    from: readonly ReleaseStatus[],
    dueBy?: string,
  ): Promise<void> {
    await this.toggles.transaction(async ({ trx, events, change }) => {
      const store = this.store(trx);
      const id = await this.idOf(store, name);
      const claimed = await store.transition(id, from, 'applied', {
        appliedAt: nowIso(),
        error: null,
        ...(dueBy !== undefined && { dueBy }),
      });
      if (!claimed) throw await this.conflict(store, name, 'applied');
      const { release: r, appIds } = (await store.findWithAppIds(name))!;
      if (r.changes.length === 0) throw new InvalidInput(`release "${name}" has no changes`);
      const changes: ToggleChange[] = r.changes.map((c, i) => ({
        app: { id: appIds[i]!, name: c.app },
        toggle: c.toggle,
        env: c.env,
        patch: (current) => patchOf(c, current),
      }));
      const { before } = await change(changes, actor, { release: r.name });
      for (const [i, b] of before.entries()) await store.setBefore(id, r.changes[i]!.idx, b);
      await events.append(releaseEvent('release.applied', r, actor, { changes: r.changes.length }));
    });
  }

  async revert(name: string, actor: string): Promise<Release> {
    await this.toggles.transaction(async ({ trx, events, change }) => {
      const store = this.store(trx);
      const id = await this.idOf(store, name);
      if (!(await store.transition(id, ['applied'], 'reverted', { revertedAt: nowIso() })))
        throw await this.conflict(store, name, 'reverted');
      const { release: r, appIds } = (await store.findWithAppIds(name))!;
      const changes: ToggleChange[] = [];
      for (let i = r.changes.length - 1; i >= 0; i--) {
        const c = r.changes[i]!;
        if (c.before)
          changes.push({
            app: { id: appIds[i]!, name: c.app },
            toggle: c.toggle,
            env: c.env,
            patch: c.before,
          });
      }
      await change(changes, actor, { release: r.name, revert: true });
      await events.append(releaseEvent('release.reverted', r, actor, { changes: changes.length }));
    });
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

  /**
   * Applies the releases scheduled for `now` or earlier; returns those it applied. One that someone
   * applied, unscheduled or cancelled meanwhile is left alone; one that cannot be applied is marked
   * failed (nothing of it applied); when the database is unavailable, the next round tries again.
   */
  async applyDue(now = nowIso()): Promise<string[]> {
    const applied: string[] = [];
    for (const name of await this.store().due(now)) {
      try {
        await this.applyFrom(name, 'scheduler', ['scheduled'], now);
        applied.push(name);
      } catch (err) {
        if (err instanceof Conflict || err instanceof NotFound) continue;
        if (isConnectionError(err) || isTransient(err)) throw err;
        await this.fail(name, err instanceof Error ? err.message : String(err), now);
        this.logger.error({ err, release: name }, 'a scheduled release failed; nothing of it was applied');
      }
    }
    return applied;
  }

  private async fail(name: string, error: string, now: string): Promise<void> {
    await this.toggles.transaction(async ({ trx, events }) => {
      const store = this.store(trx);
      const id = await this.idOf(store, name);
      if (!(await store.transition(id, ['scheduled'], 'failed', { error, dueBy: now }))) return;
      const r = (await store.findByName(name))!;
      await events.append(releaseEvent('release.failed', r, 'scheduler', { error }));
    });
  }

  private async idOf(store: SqlReleaseStore, name: string): Promise<string> {
    const id = await store.idByName(name);
    if (!id) throw notFound(name);
    return id;
  }

  /** The 409 for a transition the release's current status does not allow, with the release as details. */
  private async conflict(store: SqlReleaseStore, name: string, wanted: Wanted): Promise<Conflict> {
    const r = await store.findByName(name);
    if (!r) return new Conflict(`release "${name}" was removed meanwhile`);
    return new Conflict(`release "${name}" is ${describe(r)}; ${ALLOWED[wanted]}`, r);
  }
}

type Wanted = 'applied' | 'reverted' | 'scheduled' | 'unscheduled' | 'cancelled' | 'changed';

const ALLOWED: Record<Wanted, string> = {
  applied: 'only a draft or scheduled release can be applied, once',
  reverted: 'only an applied release can be reverted, once',
  scheduled: 'only a draft or scheduled release can be scheduled',
  unscheduled: 'only a scheduled release can be unscheduled',
  cancelled: 'only a draft, scheduled or failed release can be cancelled (revert an applied one)',
  changed: "only a draft or scheduled release's changes can be added or removed",
};

function describe(r: Release): string {
  switch (r.status) {
    case 'draft':
      return 'a draft';
    case 'scheduled':
      return `scheduled for ${r.scheduledAt}`;
    case 'applied':
      return `applied (at ${r.appliedAt})`;
    case 'reverted':
      return `reverted (at ${r.revertedAt})`;
    case 'failed':
      return `failed (${r.error})`;
    case 'cancelled':
      return 'cancelled';
  }
}

/** What one release change does to the toggle's state as the applying transaction reads it. */
function patchOf(c: ReleaseChange, current: EnvState): EnvironmentPatch {
  const strategies =
    c.change.rollout !== undefined
      ? withRollout(current.strategies, c.change.rollout, c.toggle)
      : c.change.strategies;
  return {
    ...(c.change.enabled !== undefined && { enabled: c.change.enabled }),
    ...(strategies !== undefined && { strategies }),
    ...(c.change.variants !== undefined && { variants: c.change.variants }),
  };
}

function notFound(name: string): NotFound {
  return new NotFound(`no release "${name}"; see \`gantry release list\``);
}

/** PostgreSQL gave up on the transaction because of another one (deadlock, serialization): try again. */
function isTransient(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '40001' || code === '40P01';
}

function releaseEvent(
  type: Extract<EventType, `release.${string}`>,
  r: Release,
  actor: string,
  data: Record<string, unknown>,
): Parameters<ToggleTransaction['events']['append']>[0] {
  return { type, appId: null, subject: r.name, actor, data: { release: r.id, ...data } };
}
