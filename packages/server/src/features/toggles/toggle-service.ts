import type {
  GantryEvent,
  Segment,
  Toggle,
  ToggleConstraint,
  ToggleDependency,
  ToggleStrategy,
  ToggleType,
  ToggleVariant,
} from '@gantry/contracts';
import type { Db } from '../../db/database.js';
import { Conflict, InvalidInput, NotFound } from '../../errors.js';
import type { EventBus } from '../../events/event-bus.js';
import { SqlEventStore } from '../../events/sql-event-store.js';
import type { AppRecord } from '../apps/app-store.js';
import { SqlToggleStore } from './sql-toggle-store.js';
import type { ImportedToggle } from './toggle-import.js';
import { checkDependencies, checkStrategies, checkVariants, withRollout } from './toggle-rules.js';
import type { EnvironmentPatch, ToggleStore } from './toggle-store.js';

export interface ToggleInput {
  name: string;
  type?: ToggleType;
  description?: string;
  owner?: string | null;
  impressionData?: boolean;
  dependencies?: ToggleDependency[];
}

/** One change to one toggle in one environment; a release is a list of these. */
export interface ToggleChange {
  app: Pick<AppRecord, 'id' | 'name'>;
  toggle: string;
  env: string;
  /**
   * The change, or how to make it from the toggle's state in `env` as read inside the transaction
   * (a rollout keeps the other strategies of the state it replaces, not of an earlier read).
   */
  patch: EnvironmentPatch | ((current: EnvState) => EnvironmentPatch);
}

type Tx = { store: ToggleStore; events: SqlEventStore; trx: Db };

/** What a caller of `transaction` may do inside it. */
export interface ToggleTransaction {
  /** The transaction, for the caller's own stores; never query the root database inside it. */
  trx: Db;
  /** Appends an event in the transaction; it is published after the commit. */
  events: Pick<SqlEventStore, 'append'>;
  /**
   * Makes the changes in order (each toggle.changed event carries `extra`) and bumps the revision of
   * each environment touched, once, at the end; returns each toggle's state before its change.
   */
  change(
    changes: ToggleChange[],
    actor: string,
    extra?: Record<string, unknown>,
  ): Promise<{ before: EnvState[]; after: Toggle[] }>;
}

/**
 * Toggles and their per-environment state. Every change runs in one transaction that also bumps
 * the revision of each environment it touches and appends its events, so an SDK sees a change
 * (or a whole release) in one poll or not at all.
 */
export class ToggleService {
  private readonly listeners: ((changed: { appId: string; env: string; revision: number }[]) => void)[] = [];

  constructor(
    private readonly db: Db,
    private readonly bus: EventBus,
    /** PostgreSQL: lock toggle rows in one order before changing several (see ToggleStore.lockInOrder). */
    private readonly rowLocks = false,
  ) {}

  /** Called after a commit with the environments whose revision moved (caches, live updates). */
  onRevisions(listener: (changed: { appId: string; env: string; revision: number }[]) => void): void {
    this.listeners.push(listener);
  }

  readStore(): ToggleStore {
    return new SqlToggleStore(this.db);
  }

  private async tx<T>(fn: (t: Tx) => Promise<T>, touched: { appId: string; env: string }[] = []): Promise<T> {
    const appended: GantryEvent[] = [];
    const bumped: { appId: string; env: string; revision: number }[] = [];
    const result = await this.db.transaction().execute(async (trx) => {
      const events = new SqlEventStore(trx, { publish: (e) => appended.push(e) });
      const store = new SqlToggleStore(trx, this.rowLocks);
      const out = await fn({ store, events, trx });
      // One order for every transaction, so two that touch the same environments cannot deadlock here.
      const unique = new Map(
        touched
          .map((t) => [`${t.appId}\u0000${t.env}`, t] as const)
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      );
      for (const t of unique.values())
        bumped.push({ ...t, revision: await store.bumpRevision(t.appId, t.env) });
      return out;
    });
    for (const e of appended) this.bus.publish(e);
    if (bumped.length) for (const l of this.listeners) l(bumped);
    return result;
  }

  async list(app: AppRecord, includeArchived = false): Promise<Toggle[]> {
    return this.readStore().list(app.id, { includeArchived });
  }

  async get(app: AppRecord, name: string): Promise<Toggle> {
    const t = await this.readStore().find(app.id, name);
    if (!t) throw new NotFound(`no toggle "${name}" in app ${app.name}; see \`gantry toggles list\``);
    return t;
  }

  async create(app: AppRecord, input: ToggleInput, actor: string): Promise<Toggle> {
    // A new toggle is off everywhere, but SDKs should still see it listed at once.
    const known = (await this.readStore().revisions()).filter((r) => r.appId === app.id);
    return this.tx(async ({ store, events }) => {
      if (await store.find(app.id, input.name))
        throw new Conflict(`toggle "${input.name}" already exists in ${app.name}`);
      const deps = input.dependencies ?? [];
      if (deps.length) checkDependencies(input.name, deps, await this.dependencyGraph(store, app.id));
      const t = await store.insert({
        appId: app.id,
        name: input.name,
        type: input.type ?? 'release',
        description: input.description ?? '',
        owner: input.owner ?? null,
        impressionData: input.impressionData ?? false,
        dependencies: deps,
        createdBy: actor,
      });
      await events.append({
        type: 'toggle.created',
        appId: app.id,
        subject: t.name,
        actor,
        data: { after: t },
      });
      return t;
    }, known);
  }

  async update(
    app: AppRecord,
    name: string,
    patch: Omit<ToggleInput, 'name'>,
    actor: string,
  ): Promise<Toggle> {
    const envs = (await this.get(app, name)).environments.map((e) => ({ appId: app.id, env: e.env }));
    return this.tx(async ({ store, events }) => {
      const before = await this.mustFind(store, app, name);
      if (patch.dependencies)
        checkDependencies(name, patch.dependencies, await this.dependencyGraph(store, app.id));
      await store.updateMeta(before.id, patch);
      const after = (await store.find(app.id, name))!;
      await events.append({
        type: 'toggle.changed',
        appId: app.id,
        subject: name,
        actor,
        data: { before, after },
      });
      return after;
    }, envs);
  }

  /**
   * Runs `fn` in one transaction with the toggles: what it reads and guards there (a release's status)
   * and the toggle changes it makes commit together or not at all. Events are published after the commit.
   */
  async transaction<T>(fn: (t: ToggleTransaction) => Promise<T>): Promise<T> {
    const touched: { appId: string; env: string }[] = [];
    return this.tx(async ({ store, events, trx }) => {
      const change: ToggleTransaction['change'] = async (changes, actor, extra = {}) => {
        touched.push(...changes.map((c) => ({ appId: c.app.id, env: c.env })));
        return this.change(store, events, changes, actor, extra);
      };
      return fn({ trx, events, change });
    }, touched);
  }

  /** Applies several environment changes atomically (one revision per environment touched). */
  async applyChanges(
    changes: ToggleChange[],
    actor: string,
    extra: Record<string, unknown> = {},
    /** Runs inside the same transaction, after the changes, with each toggle's state before them. */
    alsoInTx?: (trx: Db, before: EnvState[]) => Promise<void>,
  ): Promise<Toggle[]> {
    return this.transaction(async ({ trx, change }) => {
      const { before, after } = await change(changes, actor, extra);
      await alsoInTx?.(trx, before);
      return after;
    });
  }

  private async change(
    store: ToggleStore,
    events: SqlEventStore,
    changes: ToggleChange[],
    actor: string,
    extra: Record<string, unknown>,
  ): Promise<{ before: EnvState[]; after: Toggle[] }> {
    const out: Toggle[] = [];
    const befores: EnvState[] = [];
    await store.lockInOrder(changes.map((c) => ({ appId: c.app.id, name: c.toggle })));
    for (const c of changes) {
      const before = await this.mustFind(store, c.app, c.toggle);
      if (before.archivedAt) throw new InvalidInput(`toggle "${c.toggle}" is archived`);
      const patch = typeof c.patch === 'function' ? c.patch(envState(before, c.env)) : c.patch;
      if (patch.strategies) {
        const ids = new Set((await store.segments(c.app.id)).map((s) => s.id));
        checkStrategies(patch.strategies, ids);
      }
      if (patch.variants) checkVariants(patch.variants);
      befores.push(envState(before, c.env));
      await store.patchEnvironment(before.id, c.env, patch);
      const after = (await store.find(c.app.id, c.toggle))!;
      await events.append({
        type: 'toggle.changed',
        appId: c.app.id,
        subject: c.toggle,
        actor,
        data: { env: c.env, before: envState(before, c.env), after: envState(after, c.env), ...extra },
      });
      out.push(after);
    }
    return { before: befores, after: out };
  }

  async setEnvironment(app: AppRecord, name: string, env: string, patch: EnvironmentPatch, actor: string) {
    return (await this.applyChanges([{ app, toggle: name, env, patch }], actor))[0]!;
  }

  async rollout(app: AppRecord, name: string, env: string, percent: number, actor: string): Promise<Toggle> {
    const current = (await this.get(app, name)).environments.find((e) => e.env === env);
    const strategies = withRollout(current?.strategies ?? [], percent, name);
    return this.setEnvironment(app, name, env, { strategies, enabled: current?.enabled ?? true }, actor);
  }

  async archive(app: AppRecord, name: string, actor: string): Promise<Toggle> {
    const envs = (await this.get(app, name)).environments.map((e) => ({ appId: app.id, env: e.env }));
    return this.tx(async ({ store, events }) => {
      const t = await this.mustFind(store, app, name);
      const dependants = (await store.list(app.id)).filter((o) =>
        o.dependencies.some((d) => d.feature === name),
      );
      if (dependants.length) {
        throw new InvalidInput(
          `toggles ${dependants.map((d) => `"${d.name}"`).join(', ')} depend on "${name}"; remove those dependencies first`,
        );
      }
      await store.archive(t.id);
      await events.append({ type: 'toggle.archived', appId: app.id, subject: name, actor, data: {} });
      return (await store.find(app.id, name))!;
    }, envs);
  }

  async upsertSegment(
    app: AppRecord,
    name: string,
    description: string,
    constraints: ToggleConstraint[],
    actor: string,
  ): Promise<Segment> {
    const envs = new Set<string>();
    for (const t of await this.list(app)) for (const e of t.environments) envs.add(e.env);
    return this.tx(
      async ({ store, events }) => {
        const s = await store.upsertSegment(app.id, name, description, constraints);
        await events.append({
          type: 'segment.changed',
          appId: app.id,
          subject: name,
          actor,
          data: { after: s },
        });
        return s;
      },
      [...envs].map((env) => ({ appId: app.id, env })),
    );
  }

  /** Replaces the state of these toggles in `env` in one revision (segments remapped to ours). */
  async importState(
    app: AppRecord,
    env: string,
    imported: ImportedToggle[],
    segments: { id: number; constraints: ToggleConstraint[] }[],
    actor: string,
  ): Promise<void> {
    await this.tx(
      async ({ store, events }) => {
        const ids = new Map<number, number>();
        for (const s of segments) {
          ids.set(
            s.id,
            (await store.upsertSegment(app.id, `${env}-segment-${s.id}`, 'imported', s.constraints)).id,
          );
        }
        for (const t of imported) {
          const existing =
            (await store.find(app.id, t.name)) ??
            (await store.insert({
              appId: app.id,
              name: t.name,
              type: t.type,
              description: t.description,
              owner: null,
              impressionData: t.impressionData,
              dependencies: [],
              createdBy: actor,
            }));
          const strategies = t.strategies.map((s) =>
            s.segments ? { ...s, segments: s.segments.map((id) => ids.get(id) ?? -1) } : s,
          );
          await store.patchEnvironment(existing.id, env, {
            enabled: t.enabled,
            strategies,
            variants: t.variants,
          });
          await store.updateMeta(existing.id, {
            type: t.type,
            description: t.description,
            impressionData: t.impressionData,
            dependencies: t.dependencies,
          });
        }
        await events.append({
          type: 'toggle.changed',
          appId: app.id,
          subject: null,
          actor,
          data: { env, imported: imported.map((t) => t.name) },
        });
      },
      [{ appId: app.id, env }],
    );
  }

  private async mustFind(
    store: ToggleStore,
    app: Pick<AppRecord, 'id' | 'name'>,
    name: string,
  ): Promise<Toggle> {
    const t = await store.find(app.id, name);
    if (!t) throw new NotFound(`no toggle "${name}" in app ${app.name}; see \`gantry toggles list\``);
    return t;
  }

  private async dependencyGraph(store: ToggleStore, appId: string): Promise<Map<string, ToggleDependency[]>> {
    return new Map((await store.list(appId)).map((t) => [t.name, t.dependencies]));
  }
}

export interface EnvState {
  enabled: boolean;
  strategies: ToggleStrategy[];
  variants: ToggleVariant[];
}

export function envState(t: Toggle, env: string): EnvState {
  const e = t.environments.find((x) => x.env === env);
  return { enabled: e?.enabled ?? false, strategies: e?.strategies ?? [], variants: e?.variants ?? [] };
}
