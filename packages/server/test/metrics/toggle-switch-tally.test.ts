import { afterEach, describe, expect, it } from 'vitest';
import { SqlEventStore } from '../../src/events/sql-event-store.js';
import { SqlMetricsStore } from '../../src/features/metrics/sql-metrics-store.js';
import { ToggleSwitchTally } from '../../src/features/metrics/toggle-switch-tally.js';
import { engines } from '../support/engines.js';
import { openTestDatabase } from '../support/test-database.js';

type TestDb = Awaited<ReturnType<typeof openTestDatabase>>;

describe.each(engines)('toggles switched on outside a release, tallied across scrapes on $name', (engine) => {
  let db: TestDb;
  afterEach(async () => db?.close());

  const change = (events: SqlEventStore, env: string, before: boolean, after: boolean, release?: string) =>
    events.append({
      type: 'toggle.changed',
      appId: 'app_1',
      subject: 'banner',
      actor: 'test',
      data: { env, before: { enabled: before }, after: { enabled: after }, ...(release && { release }) },
    });

  it('counts each switch-on once, reads only events after the settled ones, and keeps recent ones unsettled', async () => {
    db = await openTestDatabase(engine);
    const events = new SqlEventStore(db.db);
    const store = new SqlMetricsStore(db.db);
    await change(events, 'qa', false, true);
    await change(events, 'qa', true, false);
    await change(events, 'qa', false, true);
    await change(events, 'prod', false, true, 'rel_1'); // a release's own change: not counted here
    await change(events, 'prod', false, true);

    const tally = new ToggleSwitchTally(60_000);
    // Just now: nothing is settled yet, everything is counted from the tail.
    expect(await tally.counts(store, Date.now())).toEqual(
      new Map([
        ['app_1\u0000qa', 2],
        ['app_1\u0000prod', 1],
      ]),
    );
    expect(await store.toggleSwitchesAfter(0)).toHaveLength(5);

    // Two minutes on, all five are settled: the next call reads nothing old again.
    const later = Date.now() + 120_000;
    expect(await tally.counts(store, later)).toEqual(
      new Map([
        ['app_1\u0000qa', 2],
        ['app_1\u0000prod', 1],
      ]),
    );
    const last = (await store.toggleSwitchesAfter(0)).at(-1)!.id;
    expect(await store.toggleSwitchesAfter(last)).toEqual([]);

    await change(events, 'qa', false, true);
    expect((await tally.counts(store, later)).get('app_1\u0000qa')).toBe(3);
    // The same scrape again counts the new one once, not once per scrape.
    expect((await tally.counts(store, later)).get('app_1\u0000qa')).toBe(3);
  });
});
