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
        })
        .onConflict((oc) =>
          oc.columns(['app_id', 'env', 'app_name', 'instance_id']).doUpdateSet({
            sdk_version: c.sdkVersion,
            strategies: JSON.stringify(c.strategies),
            interval_ms: c.intervalMs,
            started_at: c.startedAt,
            last_seen_at: c.lastSeenAt,
          }),
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

  async instances(appId: string): Promise<ClientInstance[]> {
    const rows = await this.db
      .selectFrom('toggle_clients')
      .selectAll()
      .where('app_id', '=', appId)
      .orderBy('last_seen_at', 'desc')
      .execute();
    return rows.map((r) => ({
      appId: r.app_id,
      env: r.env,
      appName: r.app_name,
      instanceId: r.instance_id,
      sdkVersion: r.sdk_version,
      strategies: JSON.parse(r.strategies) as string[],
      intervalMs: r.interval_ms === null ? null : Number(r.interval_ms),
      startedAt: r.started_at,
      lastSeenAt: r.last_seen_at,
    }));
  }
}
