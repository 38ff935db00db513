import { describe, expect, it } from 'vitest';
import {
  activeFreeze,
  type ConfigIssue,
  type FreezeWindow,
  freezeDate,
  freezeRefusal,
  parseGantryYaml,
} from '../src/index.js';

const H = 3_600_000;
const weekend: FreezeWindow = {
  cron: '0 16 * * FRI',
  duration: 64 * H,
  tz: 'Europe/Berlin',
  reason: 'weekend',
};
const at = (iso: string) => new Date(iso);

describe('activeFreeze: recurring windows in a time zone', () => {
  it('is in force from the start (inclusive) until the start plus the duration (exclusive)', () => {
    // Friday 2026-03-20 16:00 in Berlin is 15:00 UTC (CET, +1).
    expect(activeFreeze([weekend], at('2026-03-20T14:59:59Z'))).toBeNull();
    expect(activeFreeze([weekend], at('2026-03-20T15:00:00Z'))).toMatchObject({
      startedAt: '2026-03-20T15:00:00Z',
      endsAt: '2026-03-23T07:00:00Z',
      reason: 'weekend',
      index: 0,
    });
    expect(activeFreeze([weekend], at('2026-03-23T06:59:59Z'))?.endsAt).toBe('2026-03-23T07:00:00Z');
    expect(activeFreeze([weekend], at('2026-03-23T07:00:00Z'))).toBeNull();
    expect(activeFreeze([weekend], at('2026-03-25T12:00:00Z'))).toBeNull();
  });

  it('starts at 16:00 local time in summer too, and counts the duration on the wall clock across a DST change', () => {
    // Clocks go forward on Sunday 2026-03-29: the window of Friday 27th starts at 16:00 CET (15:00Z)
    // and ends Monday 08:00 CEST (06:00Z), 63 hours later.
    expect(activeFreeze([weekend], at('2026-03-28T12:00:00Z'))).toMatchObject({
      startedAt: '2026-03-27T15:00:00Z',
      endsAt: '2026-03-30T06:00:00Z',
    });
    expect(activeFreeze([weekend], at('2026-03-30T06:30:00Z'))).toBeNull();
    // In summer, 16:00 CEST is 14:00Z.
    expect(activeFreeze([weekend], at('2026-04-03T14:00:00Z'))?.endsAt).toBe('2026-04-06T06:00:00Z');
    expect(activeFreeze([weekend], at('2026-04-03T13:59:00Z'))).toBeNull();
    // Clocks go back on Sunday 2026-10-25: Friday 16:00 CEST (14:00Z) to Monday 08:00 CET (07:00Z), 65 hours.
    expect(activeFreeze([weekend], at('2026-10-26T06:59:00Z'))).toMatchObject({
      startedAt: '2026-10-23T14:00:00Z',
      endsAt: '2026-10-26T07:00:00Z',
    });
  });

  it('a window that ends in the hour the clocks skip ends when the clocks go on', () => {
    const night: FreezeWindow = { cron: '30 1 * * *', duration: H, tz: 'Europe/Berlin', reason: 'backups' };
    // 01:30 CET + 1 h on the wall clock is 02:30, which does not exist on 2026-03-29: 03:30 CEST (01:30Z).
    expect(activeFreeze([night], at('2026-03-29T00:45:00Z'))?.endsAt).toBe('2026-03-29T01:30:00Z');
  });

  it('windows longer than the time between their starts run into each other', () => {
    const daily: FreezeWindow = { cron: '0 0 * * *', duration: 36 * H, reason: 'audit' };
    // Each start extends the freeze: the chain is followed a hundred starts ahead at most.
    expect(activeFreeze([daily], at('2026-05-01T06:00:00Z'))).toMatchObject({
      startedAt: '2026-05-01T00:00:00Z',
      endsAt: '2026-08-10T12:00:00Z',
    });
    const short: FreezeWindow = { cron: '0 0 * * *', duration: 12 * H, reason: 'nightly' };
    expect(activeFreeze([short], at('2026-05-01T06:00:00Z'))?.endsAt).toBe('2026-05-01T12:00:00Z');
  });
});

describe('activeFreeze: date ranges', () => {
  const holidays: FreezeWindow = {
    from: '2026-12-24T00:00:00Z',
    to: '2027-01-02T00:00:00Z',
    reason: 'holidays',
  };

  it('is in force from `from` (inclusive) to `to` (exclusive)', () => {
    expect(activeFreeze([holidays], at('2026-12-23T23:59:59Z'))).toBeNull();
    expect(activeFreeze([holidays], at('2026-12-24T00:00:00Z'))?.reason).toBe('holidays');
    expect(activeFreeze([holidays], at('2027-01-01T23:59:59Z'))?.endsAt).toBe('2027-01-02T00:00:00Z');
    expect(activeFreeze([holidays], at('2027-01-02T00:00:00Z'))).toBeNull();
  });

  it('reads dates without an offset in the window’s time zone', () => {
    expect(freezeDate('2026-12-24', 'Europe/Berlin')).toBe(Date.parse('2026-12-23T23:00:00Z'));
    expect(freezeDate('2026-07-01T18:00', 'Europe/Berlin')).toBe(Date.parse('2026-07-01T16:00:00Z'));
    expect(freezeDate('2026-07-01T18:00+05:30')).toBe(Date.parse('2026-07-01T12:30:00Z'));
    expect(freezeDate('2026-02-30')).toMatch(/is not a date/);
  });

  it('of several windows in force, names the one that ends last', () => {
    const now = at('2026-12-25T16:00:00Z'); // a Friday
    const found = activeFreeze([weekend, holidays], now);
    expect(found).toMatchObject({ index: 1, reason: 'holidays' });
    expect(freezeRefusal('production', found!)).toBe(
      '"production" is frozen until 2027-01-02T00:00:00Z (Sat 2 Jan 2027 00:00 UTC) by the freeze window ' +
        '2026-12-24T00:00:00Z → 2027-01-02T00:00:00Z: holidays. Rollbacks still run; an admin can override with `gantry deploy … --override --reason "<why>"` (recorded)',
    );
  });
});

const header = `build: { steps: [{ name: a, run: b }], artifact: { path: dist } }
run: { command: node server.js }
environments:
  production:
`;

function errorsOf(text: string): string[] {
  const { config, errors } = parseGantryYaml(header + text);
  expect(config).toBeUndefined();
  return errors.map((e: ConfigIssue) => `${e.line}:${e.column} ${e.path}: ${e.message}`);
}

describe('gantry.yaml: approvals and freeze', () => {
  it('parses approvals, freeze windows and protect_rollbacks', () => {
    const { config, errors } = parseGantryYaml(
      `${header}    approvals: { required: 2, from: [alice, "group:release-leads"], self_approval: false, expires: 24h }
    freeze:
      - { cron: "0 16 * * FRI", duration: 64h, tz: Europe/Berlin, reason: weekend }
      - { from: 2026-12-24T00:00:00Z, to: 2027-01-02T00:00:00Z, reason: holidays }
      - { from: 2027-04-01, until: 2027-04-02, tz: Europe/Berlin, reason: migration }
    protect_rollbacks: true
`,
    );
    expect(errors).toEqual([]);
    expect(config!.environments.production).toMatchObject({
      approvals: {
        required: 2,
        from: ['alice', 'group:release-leads'],
        self_approval: false,
        expires: 24 * H,
      },
      freeze: [
        { cron: '0 16 * * FRI', duration: 64 * H, tz: 'Europe/Berlin', reason: 'weekend' },
        { from: '2026-12-24T00:00:00Z', to: '2027-01-02T00:00:00Z', reason: 'holidays' },
        { from: '2027-04-01', until: '2027-04-02', reason: 'migration' },
      ],
      protect_rollbacks: true,
    });
    // `until` is `to` by another name: in force from `from` (inclusive) until it (exclusive), in the window's zone.
    const migration = config!.environments.production!.freeze![2]!;
    expect(activeFreeze([migration], at('2027-03-31T21:59:59Z'))).toBeNull();
    expect(activeFreeze([migration], at('2027-03-31T22:00:00Z'))).toMatchObject({
      startedAt: '2027-03-31T22:00:00Z',
      endsAt: '2027-04-01T22:00:00Z',
      reason: 'migration',
    });
  });

  it('says where a freeze window is wrong, with line and column', () => {
    expect(
      errorsOf(`    freeze:
      - { cron: "0 25 * * FRI", duration: 64h, tz: Europe/Berlin, reason: weekend }
      - { cron: "0 16 * * FRI", duration: 64h, tz: Mars/Olympus, reason: weekend }
      - { cron: "0 16 * * FRI", duration: sixty, reason: weekend }
      - { from: 2027-01-02T00:00:00Z, to: 2026-12-24T00:00:00Z, reason: holidays }
      - { cron: "0 16 * * FRI", reason: weekend }
      - { from: 2026-12-24, to: 2026-12-32, reason: x }
      - { from: 2026-12-24, to: 2026-12-30, until: 2026-12-31, reason: x }
      - { from: 2026-12-24, until: 2026-12-20, reason: x }
`),
    ).toEqual([
      '6:17 environments.production.freeze[0].cron: "0 25 * * FRI" is not a cron expression (Invalid value for hour: 25); use five fields, minute hour day-of-month month day-of-week, e.g. "0 16 * * FRI"',
      '7:52 environments.production.freeze[1].tz: unknown time zone "Mars/Olympus": use an IANA name such as Europe/Berlin, America/New_York or UTC',
      '8:43 environments.production.freeze[2].duration: "sixty" is not a duration: use a number and a unit (ms, s, m, h), e.g. "30s", "10m" or "1h30m"',
      '9:43 environments.production.freeze[3].to: to (2026-12-24T00:00:00Z) is not after from (2027-01-02T00:00:00Z); a freeze window ends after it starts',
      '10:9 environments.production.freeze[4]: a recurring freeze window needs a duration, e.g. { cron: "0 16 * * FRI", duration: 64h }',
      '11:33 environments.production.freeze[5].to: "2026-12-32" is not a date: use ISO 8601, e.g. 2026-12-24, 2026-12-24T18:00 or 2026-12-24T00:00:00Z',
      '12:52 environments.production.freeze[6].until: until is another name for to: give one of them',
      '13:36 environments.production.freeze[7].until: until (2026-12-20) is not after from (2026-12-24); a freeze window ends after it starts',
    ]);
  });

  it('says where approvals are wrong', () => {
    expect(
      errorsOf(`    approvals: { required: 3, from: [alice, "token:ci"], expires: soon }
`),
    ).toEqual([
      '5:67 environments.production.approvals.expires: "soon" is not a duration: use a number and a unit (ms, s, m, h), e.g. "30s", "10m" or "1h30m"',
    ]);
    expect(
      errorsOf(`    approvals: { required: 3, from: [alice, "team:ops"] }
`),
    ).toEqual([
      '5:45 environments.production.approvals.from[1]: "team:ops": "team:" is not a kind of approver; use user:, group: or token: (e.g. alice, user:alice, group:release-leads or token:ci-bot)',
    ]);
    expect(
      errorsOf(`    approvals: { required: 3, from: [alice, "token:ci"] }
`),
    ).toEqual([
      '5:28 environments.production.approvals.required: required is 3, but from names only 2 approvers and no group, so no deployment could ever be approved; lower required or add approvers',
    ]);
  });
});
