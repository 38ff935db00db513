import { describe, expect, it } from 'vitest';
import { checkTimeoutMs, formatConfigIssue, parseGantryYaml } from '../src/index.js';

const head = 'build: { steps: [{ name: a, run: b }], artifact: { path: d } }\n';

function parse(envs: string, extra = '') {
  return parseGantryYaml(`${head}environments:\n${envs}\n${extra}`);
}

describe('post-deploy checks in gantry.yaml', () => {
  it('reads the three kinds with their defaults, names the unnamed, and turns shares and durations into numbers', () => {
    const { config, errors } = parse(
      `  qa:
    on_check_failure: keep
    checks:
      - { name: smoke, run: npm run smoke, retries: 2 }
      - { http: { path: /api/orders, expect_body: '"ok"' } }
      - { watch: { for: 2m, max_error_rate: 1%, max_p95_ms: 500 } }
      - { run: ./probe.sh }`,
      'revert: { on_check_failure: auto }',
    );
    expect(errors).toEqual([]);
    const qa = config!.environments.qa!;
    expect(qa.on_check_failure).toBe('keep');
    expect(qa.checks).toEqual([
      { name: 'smoke', run: 'npm run smoke', retries: 2 },
      {
        name: 'http /api/orders',
        http: { path: '/api/orders', expect_status: 200, expect_body: '"ok"' },
        retries: 1,
      },
      {
        name: 'watch',
        watch: { for: 120_000, max_error_rate: 0.01, max_p95_ms: 500, require_traffic: true },
        retries: 1,
      },
      { name: 'check 4', run: './probe.sh', retries: 1 },
    ]);
    expect(config!.revert.on_check_failure).toBe('auto');
    // a watch may run its own length and a minute; other checks two minutes unless told
    expect(checkTimeoutMs(qa.checks[2]!)).toBe(180_000);
    expect(checkTimeoutMs(qa.checks[0]!)).toBe(120_000);
    expect(parse('  qa: {}').config!.revert.on_check_failure).toBe('propose');
  });

  it('says what is wrong with a check, where', () => {
    const { errors } = parse(
      `  qa:
    on_check_failure: revert
    checks:
      - { name: a }
      - { name: b, run: x, http: { path: / } }
      - { name: a, run: y }
      - { http: { path: orders } }
      - { watch: { for: 2m, max_error_rate: 150% } }
      - { run: z, retries: 11 }`,
      'revert: { on_check_failure: open }',
    );
    expect(errors.map((e) => formatConfigIssue(e))).toEqual([
      'gantry.yaml:4:23: environments.qa.on_check_failure: expected one of "rollback", "keep", got "revert"',
      'gantry.yaml:6:9: environments.qa.checks[0]: a check needs one of run (a command), http ({ path }) or watch ({ for }), e.g. { name: smoke, run: npm run smoke }',
      'gantry.yaml:7:9: environments.qa.checks[1]: a check does one thing: it has run and http; split it into 2 checks',
      'gantry.yaml:9:25: environments.qa.checks[3].http.path: expected a path starting with "/", got "orders"',
      'gantry.yaml:10:45: environments.qa.checks[4].watch.max_error_rate: "150%" is not a share: use a percentage such as "1%" or a fraction between 0 and 1',
      expect.stringMatching(
        /^gantry\.yaml:11:28: environments\.qa\.checks\[5\]\.retries: expected a number ≤ 10/,
      ),
      'gantry.yaml:12:29: revert.on_check_failure: expected one of "auto", "propose", "off", got "open"',
    ]);
  });

  it('refuses two checks of one name (their runs are told apart by name)', () => {
    const { errors } = parse('  qa: { checks: [{ name: a, run: x }, { name: a, http: { path: / } }] }');
    expect(errors.map((e) => formatConfigIssue(e))).toEqual([
      'gantry.yaml:3:47: environments.qa.checks[1].name: duplicate check name "a" (also checks[0]); give each check its own name',
    ]);
  });
});
