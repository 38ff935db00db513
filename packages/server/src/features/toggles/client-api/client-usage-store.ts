import type { Db } from '../../../db/database.js';

export interface ClientInstance {
  appId: string;
  env: string;
  appName: string;
  instanceId: string;
  sdkVersion: string | null;
  strategies: string[];
  intervalMs: number | null;
  startedAt: string | null;
  lastSeenAt: string;
  /** The client token it used (register and fetches carry it). */
  tokenId?: string | null;
  tokenName?: string | null;
}

/** One SDK instance's fetch of its toggles, as `ClientFetchTracker` writes it. */
export interface ClientFetch {
  appId: string;
  env: string;
  appName: string;
  instanceId: string;
  sdkVersion: string | null;
  tokenId: string;
  tokenName: string;
  revision: number;
  etag: string;
  mode: 'features' | 'delta' | 'streaming';
  at: string;
}

/** A registered or fetching SDK instance, with what it last fetched. */
export interface ClientInstanceView extends ClientInstance {
  firstSeenAt: string;
  fetched: { revision: number; etag: string | null; mode: string | null; at: string | null } | null;
}

export interface UsageCount {
  appId: string;
  toggle: string;
  appName: string;
  env: string;
  hour: string;
  yes: number;
  no: number;
  variants: Record<string, number>;
  lastSeenAt: string;
}

const ATTEMPTS = 10;

/** SDK instances and hourly evaluation counts; writes add to what other servers wrote. */
export class ClientUsageStore {
  constructor(private readonly db: Db) {}

  async upsertInstances(instances: ClientInstance[]): Promise<void> {
    for (const c of instances) {
      await this.db
        .insertInto('toggle_clients')
        .values({
          app_id: c.appId,
          env: c.env,
          app_name: c.appName,
          instance_id: c.instanceId,
          sdk_version: c.sdkVersion,
          strategies: JSON.stringify(c.strategies),
          interval_ms: c.intervalMs,
          started_at: c.startedAt,
          first_seen_at: c.lastSeenAt,
          last_seen_at: c.lastSeenAt,
          token_id: c.tokenId ?? null,
          token_name: c.tokenName ?? null,
        })
        .onConflict((oc) =>
          oc.columns(['app_id', 'env', 'app_name', 'instance_id']).doUpdateSet({
            sdk_version: c.sdkVersion,
            strategies: JSON.stringify(c.strategies),
            interval_ms: c.intervalMs,
            started_at: c.startedAt,
            last_seen_at: c.lastSeenAt,
            ...(c.tokenId && { token_id: c.tokenId, token_name: c.tokenName ?? null }),
          }),
        )
        .execute();
    }
  }

  /** What instances fetched; an instance that never registered gets a row of its own. */
  async recordFetches(fetches: ClientFetch[]): Promise<void> {
    // One upsert per batch (the tracker keys fetches by instance, so no row comes twice in one).
    for (let at = 0; at < fetches.length; at += 500) {
      const rows = fetches.slice(at, at + 500).map((f) => ({
        app_id: f.appId,
        env: f.env,
        app_name: f.appName,
        instance_id: f.instanceId,
        sdk_version: f.sdkVersion,
        strategies: '[]',
        interval_ms: null,
        started_at: null,
        first_seen_at: f.at,
        last_seen_at: f.at,
        token_id: f.tokenId,
        token_name: f.tokenName,
        fetch_revision: f.revision,
        fetch_etag: f.etag,
        fetch_mode: f.mode,
        fetch_at: f.at,
      }));
      await this.db
        .insertInto('toggle_clients')
        .values(rows)
        .onConflict((oc) =>
          oc.columns(['app_id', 'env', 'app_name', 'instance_id']).doUpdateSet((eb) => ({
            token_id: eb.ref('excluded.token_id'),
            token_name: eb.ref('excluded.token_name'),
            fetch_revision: eb.ref('excluded.fetch_revision'),
            fetch_etag: eb.ref('excluded.fetch_etag'),
            fetch_mode: eb.ref('excluded.fetch_mode'),
            fetch_at: eb.ref('excluded.fetch_at'),
            last_seen_at: eb.ref('excluded.last_seen_at'),
            // A fetch without an `unleash-sdk` header keeps the version the instance told before.
            sdk_version: eb.fn.coalesce('excluded.sdk_version', 'toggle_clients.sdk_version'),
          })),
        )
        .execute();
    }
  }

  /** Marks instances that sent metrics as seen (only those that registered). */
  async touchInstances(
    seen: { appId: string; env: string; appName: string; instanceId: string; at: string }[],
  ) {
    for (const s of seen) {
      await this.db
        .updateTable('toggle_clients')
        .set({ last_seen_at: s.at })
        .where('app_id', '=', s.appId)
        .where('env', '=', s.env)
        .where('app_name', '=', s.appName)
        .where('instance_id', '=', s.instanceId)
        .where('last_seen_at', '<', s.at)
        .execute();
    }
  }

  /**
   * Adds counts to their hourly rows. The variants JSON cannot be summed in SQL on both engines,
   * so each row is compared-and-set, retried when another server wrote it in between.
   */
  async addUsage(counts: UsageCount[]): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      for (const c of counts) {
        const key = { app_id: c.appId, toggle: c.toggle, app_name: c.appName, env: c.env, hour: c.hour };
        await trx
          .insertInto('toggle_usage')
          .values({ ...key, yes_count: 0, no_count: 0, variants: '{}', last_seen_at: c.lastSeenAt })
          .onConflict((oc) => oc.doNothing())
          .execute();
        for (let attempt = 1; ; attempt++) {
          const row = await trx
            .selectFrom('toggle_usage')
            .select(['yes_count', 'no_count', 'variants'])
            .where('app_id', '=', c.appId)
            .where('toggle', '=', c.toggle)
            .where('app_name', '=', c.appName)
            .where('env', '=', c.env)
            .where('hour', '=', c.hour)
            .executeTakeFirstOrThrow();
          const variants = JSON.parse(row.variants) as Record<string, number>;
          for (const [name, n] of Object.entries(c.variants)) variants[name] = (variants[name] ?? 0) + n;
          const updated = await trx
            .updateTable('toggle_usage')
            .set({
              yes_count: Number(row.yes_count) + c.yes,
              no_count: Number(row.no_count) + c.no,
              variants: JSON.stringify(variants),
              last_seen_at: c.lastSeenAt,
            })
            .where('app_id', '=', c.appId)
            .where('toggle', '=', c.toggle)
            .where('app_name', '=', c.appName)
            .where('env', '=', c.env)
            .where('hour', '=', c.hour)
            .where('yes_count', '=', row.yes_count)
            .where('no_count', '=', row.no_count)
            .where('variants', '=', row.variants)
            .executeTakeFirst();
          if (Number(updated.numUpdatedRows) === 1) break;
          if (attempt >= ATTEMPTS) throw new Error(`usage row for ${c.toggle} kept changing; gave up`);
        }
      }
    });
  }

  async usage(appId: string, toggle: string, sinceHour: string): Promise<UsageCount[]> {
    const rows = await this.db
      .selectFrom('toggle_usage')
      .selectAll()
      .where('app_id', '=', appId)
      .where('toggle', '=', toggle)
      .where('hour', '>=', sinceHour)
      .orderBy('hour')
      .orderBy('env')
      .orderBy('app_name')
      .execute();
    return rows.map((r) => ({
      appId: r.app_id,
      toggle: r.toggle,
      appName: r.app_name,
      env: r.env,
      hour: r.hour,
      yes: Number(r.yes_count),
      no: Number(r.no_count),
      variants: JSON.parse(r.variants) as Record<string, number>,
      lastSeenAt: r.last_seen_at,
    }));
  }

  async lastSeen(appId: string, toggle: string): Promise<string | null> {
    const row = await this.db
      .selectFrom('toggle_usage')
      .select((eb) => eb.fn.max('last_seen_at').as('at'))
      .where('app_id', '=', appId)
      .where('toggle', '=', toggle)
      .executeTakeFirst();
    return (row?.at as string | null | undefined) ?? null;
  }

  /** Last report per toggle in one environment; empty when no SDK there ever reported usage. */
  async lastSeenByToggle(appId: string, env: string): Promise<Map<string, string>> {
    const rows = await this.db
      .selectFrom('toggle_usage')
      .select(['toggle', (eb) => eb.fn.max('last_seen_at').as('at')])
      .where('app_id', '=', appId)
      .where('env', '=', env)
      .groupBy('toggle')
      .execute();
    return new Map(rows.map((r) => [r.toggle, String(r.at)]));
  }

  async instances(appId: string, env?: string): Promise<ClientInstanceView[]> {
    let q = this.db.selectFrom('toggle_clients').selectAll().where('app_id', '=', appId);
    if (env !== undefined) q = q.where('env', '=', env);
    const rows = await q.orderBy('last_seen_at', 'desc').orderBy('instance_id').execute();
    return rows.map((r) => ({
      appId: r.app_id,
      env: r.env,
      appName: r.app_name,
      instanceId: r.instance_id,
      sdkVersion: r.sdk_version,
      strategies: JSON.parse(r.strategies) as string[],
      intervalMs: r.interval_ms === null ? null : Number(r.interval_ms),
      startedAt: r.started_at,
      firstSeenAt: r.first_seen_at,
      lastSeenAt: r.last_seen_at,
      tokenId: r.token_id,
      tokenName: r.token_name,
      fetched:
        r.fetch_revision === null
          ? null
          : {
              revision: Number(r.fetch_revision),
              etag: r.fetch_etag,
              mode: r.fetch_mode,
              at: r.fetch_at,
            },
    }));
  }
}
