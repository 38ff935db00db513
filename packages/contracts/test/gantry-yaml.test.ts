import { describe, expect, it } from 'vitest';
import {
  artifactKind,
  type ConfigIssue,
  formatConfigIssue,
  formatDuration,
  gantryYamlSchema,
  parseDuration,
  parseGantryYaml,
  parseMemory,
} from '../src/index.js';

const designSample = `app: shop
build:
  steps:
    - { name: install, run: npm ci }
    - { name: test, run: npm test }
  artifact: { path: dist }          # directory packed into the artifact
  cache: [node_modules]             # kept between builds, keyed by lock files
  timeout: 10m                      # the build SLO; past it the build is flagged, at 2x it is stopped
run:                                # how the process driver starts an artifact
  command: node server.js
  port_env: PORT
  health: { path: /healthz, timeout: 30s }
environments:
  qa:         { auto_deploy: true, checks: [{ run: "npm run smoke" }], config: { LOG_LEVEL: debug } }
  staging:    { promote_from: qa, config: { LOG_LEVEL: info } }
  production: { promote_from: staging, protected: true, config: { LOG_LEVEL: warn } }
tags: { pattern: "deploy/{env}/*" }
revert: { on_check_failure: auto }  # auto | open | off
`;

/** A valid header: line 1 build, line 2 run, so environments start on line 3. */
const header = `build: { steps: [{ name: a, run: b }], artifact: { path: dist } }
run: { command: node server.js }
`;

const where = (i: ConfigIssue) => [i.line, i.column, i.path];

function errorsOf(text: string): ConfigIssue[] {
  const result = parseGantryYaml(text);
  expect(result.config).toBeUndefined();
  return result.errors;
}

function configOf(text: string) {
  const result = parseGantryYaml(text);
  expect(result.errors).toEqual([]);
  return { config: result.config!, warnings: result.warnings };
}

describe('parseGantryYaml: valid files', () => {
  it('parses the DESIGN.md sample with defaults applied and durations in milliseconds', () => {
    const { config, warnings } = configOf(designSample);
    expect(warnings).toEqual([]);
    expect(config).toEqual({
      app: 'shop',
      build: {
        steps: [
          { name: 'install', run: 'npm ci' },
          { name: 'test', run: 'npm test' },
        ],
        artifact: { path: 'dist' },
        cache: ['node_modules'],
        cache_key: ['package-lock.json', 'yarn.lock', 'pnpm-lock.yaml', 'npm-shrinkwrap.json'],
        timeout: 600_000,
        mode: 'latest',
        env: {},
        network: true,
      },
      run: { command: 'node server.js', port_env: 'PORT', health: { path: '/healthz', timeout: 30_000 } },
      environments: {
        qa: {
          driver: 'process',
          auto_deploy: true,
          protected: false,
          standby: 1,
          checks: [{ name: 'check 1', run: 'npm run smoke', retries: 1 }],
          config: { LOG_LEVEL: 'debug' },
        },
        staging: {
          driver: 'process',
          auto_deploy: false,
          protected: false,
          standby: 1,
          checks: [],
          promote_from: 'qa',
          config: { LOG_LEVEL: 'info' },
        },
        production: {
          driver: 'process',
          auto_deploy: false,
          protected: true,
          standby: 1,
          checks: [],
          promote_from: 'staging',
          config: { LOG_LEVEL: 'warn' },
        },
      },
      tags: { pattern: 'deploy/{env}/*' },
      revert: { on_check_failure: 'auto' },
    });
    expect(Object.keys(config.environments)).toEqual(['qa', 'staging', 'production']);
  });

  it('fills every default for a minimal file and normalises paths', () => {
    const { config } = configOf(
      'build:\n  steps: [{ name: t, run: x }]\n  artifact: { path: ./out/../dist/ }\n',
    );
    expect(config.build.artifact?.path).toBe('dist');
    expect(config.build.cache).toEqual([]);
    expect(config.build.timeout).toBe(600_000);
    expect(config.build.mode).toBe('latest');
    expect(config.build.env).toEqual({});
    expect(config.build.network).toBe(true);
    expect(config.run).toBeUndefined();
    expect(config.environments).toEqual({});
    expect(config.tags.pattern).toBe('deploy/{env}/*');
    expect(config.revert.on_check_failure).toBe('propose');
  });

  it('fills run and health defaults and stringifies config values', () => {
    const { config } = configOf(
      `${header}environments:\n  qa: { port: 8080, config: { A: 1, B: true, C: x, D: 0.5 }, checks: [{ run: t, timeout: 90 }] }\n`,
    );
    expect(config.run).toEqual({
      command: 'node server.js',
      port_env: 'PORT',
      health: { path: '/healthz', timeout: 30_000 },
    });
    expect(config.environments.qa?.config).toEqual({ A: '1', B: 'true', C: 'x', D: '0.5' });
    expect(config.environments.qa?.port).toBe(8080);
    expect(config.environments.qa?.checks).toEqual([
      { name: 'check 1', run: 't', timeout: 90_000, retries: 1 },
    ]);
  });

  it('exports a schema that applies the same defaults to plain objects', () => {
    const config = gantryYamlSchema.parse({
      build: { steps: [{ name: 'a', run: 'b', timeout: '1m' }], artifact: { path: 'dist' }, timeout: 5 },
    });
    expect(config.build.steps[0]?.timeout).toBe(60_000);
    expect(config.build.timeout).toBe(5000);
    expect(gantryYamlSchema.safeParse({ build: { steps: [], artifact: { path: 'dist' } } }).success).toBe(
      false,
    );
  });
});

describe('parseGantryYaml: build.env and build.network', () => {
  it('takes variables with string values and network off', () => {
    const { config } = configOf(
      'build:\n  steps: [{ name: t, run: x }]\n  artifact: { path: dist }\n  env: { NODE_ENV: production, _X1: "" }\n  network: false\n',
    );
    expect(config.build.env).toEqual({ NODE_ENV: 'production', _X1: '' });
    expect(config.build.network).toBe(false);
  });

  it('refuses names that are not variable names, values that are not strings, and a network that is not a boolean', () => {
    const errors = errorsOf(
      'build:\n  steps: [{ name: t, run: x }]\n  artifact: { path: dist }\n  env: { "A-B": x, N: 1 }\n  network: "no"\n',
    );
    expect(errors.map((e) => e.path)).toEqual(
      expect.arrayContaining(['build.env.A-B', 'build.env.N', 'build.network']),
    );
    expect(errors.map(formatConfigIssue).join('\n')).toContain('"A-B" is not an environment variable name');
  });

  it('refuses the names Gantry sets for every step', () => {
    const errors = errorsOf(
      'build:\n  steps: [{ name: t, run: x }]\n  artifact: { path: dist }\n  env: { GANTRY_SHA: x, HOME: /root, CI: "false", PATH: /opt/bin }\n',
    );
    expect(errors.map((e) => e.path).sort()).toEqual([
      'build.env.CI',
      'build.env.GANTRY_SHA',
      'build.env.HOME',
    ]);
    expect(errors.map(formatConfigIssue).join('\n')).toContain('GANTRY_SHA is set by Gantry for every step');
  });
});

describe('parseGantryYaml: errors point at the offending node', () => {
  it('reports wrong types and missing keys with line and column', () => {
    const errors = errorsOf(`build:
  steps:
    - name: install
      run: 5
    - { name: test }
  artifact: {}
`);
    expect(errors.map(where)).toEqual([
      [4, 12, 'build.steps[0].run'],
      [5, 7, 'build.steps[1]'],
      [6, 13, 'build.artifact'],
    ]);
    expect(errors.map((e) => e.message)).toEqual([
      'expected a string (the shell command to run), got number',
      'missing required key "run" (the shell command to run)',
      'missing required key "path" (the folder to pack into the artifact)',
    ]);
    expect(formatConfigIssue(errors[0]!)).toBe(
      'gantry.yaml:4:12: build.steps[0].run: expected a string (the shell command to run), got number',
    );
  });

  it('points an empty value at its key and names the file it was given', () => {
    const result = parseGantryYaml('build:\n  steps: []\n  artifact:\n', 'apps/shop/gantry.yaml');
    expect(result.errors.map(where)).toEqual([
      [2, 10, 'build.steps'],
      [3, 3, 'build.artifact'],
    ]);
    expect(result.errors[1]?.message).toBe(
      'expected a map (what the build produces, e.g. { path: dist }), got null',
    );
    expect(formatConfigIssue(result.errors[0]!)).toMatch(
      /^apps\/shop\/gantry\.yaml:2:10: build\.steps: expected at least 1/,
    );
  });

  it('says what to add when build is missing, at the top-level map', () => {
    const [error, ...rest] = errorsOf('# my app\napp: shop\n');
    expect(rest).toEqual([]);
    expect(where(error!)).toEqual([2, 1, '']);
    expect(error?.message).toContain('missing required key "build"');
    expect(error?.message).toContain(
      'build: { steps: [{ name: test, run: npm test }], artifact: { path: dist } }',
    );
    expect(formatConfigIssue(error!)).toMatch(/^gantry\.yaml:2:1: missing required key "build"/);
  });

  it('gives a clear error for an empty file', () => {
    for (const text of ['', '\n', '# only a comment\n']) {
      const errors = errorsOf(text);
      expect(errors).toHaveLength(1);
      expect(where(errors[0]!)).toEqual([1, 1, '']);
      expect(errors[0]?.message).toMatch(/^the file is empty; add at least a build section/);
    }
  });

  it('rejects a top level that is not a map', () => {
    const errors = errorsOf('- a\n- b\n');
    expect(where(errors[0]!)).toEqual([1, 1, '']);
    expect(errors[0]?.message).toMatch(/^expected a map .*, got list$/);
  });

  it('reports YAML syntax errors with their position and does not validate', () => {
    const unclosed = errorsOf('build:\n  steps: [{ name: a, run: b }\n  artifact: { path: dist }\n');
    expect(unclosed).toHaveLength(1);
    expect(where(unclosed[0]!)).toEqual([3, 3, '']);
    expect(unclosed[0]?.message).toContain('end with a ]');

    const duplicate = errorsOf(
      'build:\n  steps: [{ name: a, run: b }]\n  artifact: { path: dist }\n  steps: []\n',
    );
    expect(duplicate.map(where)).toEqual([[4, 3, '']]);
    expect(duplicate[0]?.message).toBe('Map keys must be unique');

    const twoDocuments = errorsOf(
      'build:\n  steps: [{ name: a, run: b }]\n  artifact: { path: dist }\n---\napp: x\n',
    );
    expect(twoDocuments.map(where)).toEqual([[4, 1, '']]);
    expect(twoDocuments[0]?.message).toMatch(/^expected one YAML document/);
  });

  it('rejects unknown keys, suggesting the closest known key', () => {
    const errors = errorsOf(`build:
  steps: [{ name: a, runn: b }]
  artifact: { path: dist }
  tiemout: 5m
environmnets: {}
command: node server.js
colour: blue
`);
    expect(errors.map(where)).toEqual([
      [2, 11, 'build.steps[0]'],
      [2, 22, 'build.steps[0].runn'],
      [4, 3, 'build.tiemout'],
      [5, 1, 'environmnets'],
      [6, 1, 'command'],
      [7, 1, 'colour'],
    ]);
    expect(errors.map((e) => e.message)).toEqual([
      'missing required key "run" (the shell command to run)',
      'unknown key "runn"; did you mean "run"?',
      'unknown key "tiemout"; did you mean "timeout"?',
      'unknown key "environmnets"; did you mean "environments"?',
      'unknown key "command" here; it belongs under run (run.command)',
      'unknown key "colour"; expected one of: app, build, run, environments, tags, revert',
    ]);
  });

  it('checks enums, numbers, names, paths and patterns', () => {
    const errors = errorsOf(`app: Shop
build:
  steps: [{ name: a, run: b }]
  artifact: { path: ../up }
  mode: sometimes
run: { command: x }
environments:
  QA: {}
  qa: { port: 70000, queue: fifoo, config: { A: null } }
tags: { pattern: deploy/* }
`);
    expect(errors.map(where)).toEqual([
      [1, 6, 'app'],
      [4, 21, 'build.artifact.path'],
      [5, 9, 'build.mode'],
      [8, 3, 'environments.QA'],
      [9, 15, 'environments.qa.port'],
      [9, 29, 'environments.qa.queue'],
      [9, 49, 'environments.qa.config.A'],
      [10, 18, 'tags.pattern'],
    ]);
    expect(errors.map((e) => e.message)).toEqual([
      '"Shop" is not a valid app name: use lowercase letters, digits and dashes, starting with a letter or digit',
      'expected a path inside the repository, relative to its root (no leading "/", no ".." above it), got "../up"',
      'expected one of "latest", "every", got "sometimes"',
      '"QA" is not a valid environment name: use lowercase letters, digits and dashes, starting with a letter or digit',
      'expected a number ≤ 65535 (the port the environment is served on), got 70000',
      'expected one of "latest", "fifo", got "fifoo"; did you mean "fifo"?',
      'expected a string, number or boolean, got null',
      'expected a pattern containing {env}, e.g. "deploy/{env}/*", got "deploy/*"',
    ]);
  });

  it('explains an environment setting written where an environment name belongs', () => {
    const errors = errorsOf(`${header}environments:\n  auto_deploy: true\n`);
    expect(errors.map(where)).toEqual([[4, 3, 'environments.auto_deploy']]);
    expect(errors[0]?.message).toMatch(/^"auto_deploy" is an environment setting, not an environment name/);
  });

  it('rejects a duplicate step name at the second one', () => {
    const errors = errorsOf(
      'build:\n  steps: [{ name: t, run: a }, { name: t, run: b }]\n  artifact: { path: d }\n',
    );
    expect(errors.map(where)).toEqual([[2, 40, 'build.steps[1].name']]);
  });
});

describe('environments', () => {
  it('rejects promote_from naming an environment that is not declared', () => {
    const errors = errorsOf(`${header}environments:
  qa: { auto_deploy: true }
  staging: { promote_from: qs }
  production: { promote_from: live }
`);
    expect(errors.map(where)).toEqual([
      [5, 28, 'environments.staging.promote_from'],
      [6, 31, 'environments.production.promote_from'],
    ]);
    expect(errors[0]?.message).toBe('unknown environment "qs"; did you mean "qa"?');
    expect(errors[1]?.message).toBe(
      'unknown environment "live"; expected another environment declared in this file (qa, staging)',
    );
  });

  it('rejects a protected environment that deploys automatically, at auto_deploy', () => {
    const errors = errorsOf(`${header}environments:\n  production: { protected: true, auto_deploy: true }\n`);
    expect(errors.map(where)).toEqual([[4, 47, 'environments.production.auto_deploy']]);
    expect(errors[0]?.message).toMatch(/^a protected environment cannot deploy automatically/);
  });

  it('reports a promote_from cycle once, in promotion order', () => {
    const errors = errorsOf(`${header}environments:
  qa: { promote_from: production }
  staging: { promote_from: qa }
  production: { promote_from: staging }
  hotfix: { promote_from: qa }
`);
    expect(errors.map(where)).toEqual([[4, 23, 'environments.qa.promote_from']]);
    expect(errors[0]?.message).toMatch(/^promote_from forms a cycle \(qa → staging → production → qa\)/);
  });

  it('rejects an environment promoting from itself', () => {
    const errors = errorsOf(`${header}environments:\n  qa: { promote_from: qa }\n`);
    expect(errors.map(where)).toEqual([[4, 23, 'environments.qa.promote_from']]);
    expect(errors[0]?.message).toBe('an environment cannot promote from itself');
  });

  it('requires a deploy script for the command driver', () => {
    const errors = errorsOf(`${header}environments:\n  prod: { driver: command }\n`);
    expect(errors.map(where)).toEqual([[4, 9, 'environments.prod']]);
    expect(errors[0]?.message).toMatch(/^the command driver needs a deploy command/);
  });

  it('warns about settings that will be ignored or missing for the process driver', () => {
    const result = parseGantryYaml(`build: { steps: [{ name: a, run: b }], artifact: { path: dist } }
environments:
  qa: { deploy: ./deploy.sh }
`);
    expect(result.errors).toEqual([]);
    expect(result.config).toBeDefined();
    expect(result.warnings.map(where)).toEqual([
      [3, 7, 'environments.qa'],
      [3, 17, 'environments.qa.deploy'],
    ]);
    expect(result.warnings[0]?.message).toMatch(/there is no run section/);
    expect(result.warnings[1]?.message).toMatch(/^deploy is only used by the command driver/);
  });
});

describe('durations', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['10m', 600_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['1m30s500ms', 90_500],
    ['1.5s', 1500],
    ['2h 15m', 8_100_000],
    ['45', 45_000],
    [90, 90_000],
    [0.25, 250],
    ['0s', 0],
  ] as const)('parseDuration(%j) is %i ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it.each(['', 'abc', '10x', '-5s', 'm', '5 minutes', '1h30', -1, Number.NaN, Number.POSITIVE_INFINITY])(
    'parseDuration(%j) throws',
    (input) => {
      expect(() => parseDuration(input)).toThrow(RangeError);
    },
  );

  it('formats milliseconds back into a duration parseDuration reads', () => {
    for (const ms of [500, 30_000, 5_400_000, 90_500]) expect(parseDuration(formatDuration(ms))).toBe(ms);
    expect(formatDuration(5_400_000)).toBe('1h30m');
  });

  it('reports bad durations in gantry.yaml where they are written', () => {
    const errors = errorsOf(`build:
  steps: [{ name: a, run: b, timeout: 10x }]
  artifact: { path: dist }
  timeout: 0
run: { command: x, health: { timeout: true } }
`);
    expect(errors.map(where)).toEqual([
      [2, 39, 'build.steps[0].timeout'],
      [4, 12, 'build.timeout'],
      [5, 39, 'run.health.timeout'],
    ]);
    expect(errors.map((e) => e.message)).toEqual([
      '"10x" is not a duration: use a number and a unit (ms, s, m, h), e.g. "30s", "10m" or "1h30m"',
      'expected a duration longer than 0, got 0',
      'expected a duration such as "30s", "10m" or "1h30m", or a number of seconds, got boolean',
    ]);
  });
});

describe('bounds and unsafe values', () => {
  it('bounds build, step, health and check timeouts, so no timer overflows', () => {
    const errors = errorsOf(`build:
  steps: [{ name: a, run: b, timeout: 25h }]
  artifact: { path: dist }
  timeout: 300h
run: { command: x, health: { timeout: 2h } }
environments:
  qa: { checks: [{ run: t, timeout: 90000 }] }
`);
    expect(errors.map((e) => [...where(e), e.message])).toEqual([
      [2, 39, 'build.steps[0].timeout', 'a step timeout of 25h is too long: the most is 24h'],
      [4, 12, 'build.timeout', 'a build timeout of 300h is too long: the most is 24h'],
      [5, 39, 'run.health.timeout', 'a health timeout of 2h is too long: the most is 1h'],
      [7, 37, 'environments.qa.checks[0].timeout', 'a check timeout of 25h is too long: the most is 1h'],
    ]);
    expect(
      configOf('build: { steps: [{ name: a, run: b }], artifact: { path: d }, timeout: 24h }\n').config.build
        .timeout,
    ).toBe(86_400_000);
  });

  it('refuses a NUL byte in any value or key, escaped or raw', () => {
    const errors = errorsOf(`build:
  steps: [{ name: a, run: "echo a\\0b" }]
  artifact: { path: dist }
environments:
  qa: { config: { "K\\0": x, B: "y\0z" } }
`);
    expect(errors.map((e) => [...where(e), e.message])).toEqual([
      [2, 27, 'build.steps[0].run', 'a NUL byte (\\0) in this value; remove it'],
      [5, 19, 'environments.qa.config["K\\u0000"]', 'a NUL byte (\\0) in this key; remove it'],
      [5, 32, 'environments.qa.config.B', 'a NUL byte (\\0) in this value; remove it'],
    ]);
  });

  it('refuses a port below 1024 unless the environment allows it', () => {
    const errors = errorsOf(`${header}environments:\n  web: { port: 80 }\n`);
    expect(errors.map(where)).toEqual([[4, 16, 'environments.web.port']]);
    expect(errors[0]?.message).toMatch(/^port 80 is below 1024, .*set allow_privileged_port: true/);
    const { config } = configOf(
      `${header}environments:\n  web: { port: 443, allow_privileged_port: true }\n`,
    );
    expect(config.environments.web?.port).toBe(443);
    expect(configOf(`${header}environments:\n  web: { port: 1024 }\n`).config.environments.web?.port).toBe(
      1024,
    );
  });

  it('caps environment names at 63 characters of the safe charset', () => {
    const long = `e${'x'.repeat(63)}`;
    const errors = errorsOf(`${header}environments:\n  ${long}: {}\n  "a b": {}\n  "x\u202e": {}\n`);
    expect(errors.map((e) => e.message)).toEqual([
      `"${long}" is not a valid environment name: at most 63 characters`,
      '"a b" is not a valid environment name: use lowercase letters, digits and dashes, starting with a letter or digit',
      '"x\u202e" is not a valid environment name: use lowercase letters, digits and dashes, starting with a letter or digit',
    ]);
    expect(
      Object.keys(configOf(`${header}environments:\n  ${long.slice(1)}: {}\n`).config.environments),
    ).toEqual([long.slice(1)]);
  });

  it.each([
    ['deploy/{env}/$(reboot)*', 'contains "$": use letters, digits'],
    ['deploy/{env} now/*', 'contains " ": use letters, digits'],
    ['deploy/{env}/a:b*', 'contains ":"'],
    ['deploy/{env}/~*', 'contains "~"'],
    ['deploy/{env}/^*', 'contains "^"'],
    ['deploy/{env}/?*', 'contains "?"'],
    ['deploy/{env}/[*', 'contains "["'],
    ['deploy\\\\{env}/*', 'contains "\\\\"'],
    ['deploy/{env}/\\t*', 'contains "\\t"'],
    ['deploy/{env}/@{*', 'contains "@"'],
    ['deploy/{env}/..*', 'is not a valid git tag name: it contains ".."'],
    ['deploy//{env}/*', 'has an empty part ("//")'],
    ['/deploy/{env}/*', 'starts or ends with "/"'],
    ['deploy/{env}/*/', 'starts or ends with "/"'],
    ['deploy/{env}/*.', 'ends with "."'],
    ['deploy/{env}/.x*', 'starts with "."'],
    ['deploy/{env}.lock/*', 'the part "env.lock" ends with ".lock"'],
    ['deploy/{env}/{env}*', 'must contain {env} exactly once'],
    ['deploy/{env}/*-*', 'must contain * exactly once'],
    ['deploy/{env}', 'must contain * exactly once'],
    ['deploy/{env}/{x}*', 'may contain braces only as {env}'],
  ])('refuses tags.pattern %j with the reason', (pattern, reason) => {
    const errors = errorsOf(`${header}tags: { pattern: "${pattern}" }\n`);
    expect(errors.map(where)).toEqual([[3, 18, 'tags.pattern']]);
    expect(errors[0]?.message).toContain(reason);
  });

  it.each(['deploy/{env}/*', 'releases/{env}-*', 'v{env}_*'])('accepts tags.pattern %j', (p) => {
    expect(configOf(`${header}tags: { pattern: "${p}" }\n`).config.tags.pattern).toBe(p);
  });
});

describe('parseGantryYaml: build.image and run.limits', () => {
  const steps = 'build:\n  steps: [{ name: a, run: b }]\n';

  it('builds from ./Dockerfile with neither key, and needs neither artifact nor run.command then', () => {
    const { config, warnings } = configOf(`${steps}  image: {}\nrun: { port_env: APP_PORT }\n`);
    expect(config.build.image).toEqual({});
    expect(config.build.artifact).toBeUndefined();
    expect(config.run).toEqual({
      port_env: 'APP_PORT',
      health: { path: '/healthz', timeout: 30_000 },
    });
    expect(artifactKind(config)).toBe('image');
    expect(warnings).toEqual([]);
  });

  it('takes a Dockerfile path and a repository, and warns that run.command is not used', () => {
    const { config, warnings } = configOf(
      `${steps}  image: { dockerfile: ./docker/Dockerfile, repository: team/shop-api }\nrun: { command: node x.js }\n`,
    );
    expect(config.build.image).toEqual({ dockerfile: 'docker/Dockerfile', repository: 'team/shop-api' });
    expect(warnings.map((w) => [...where(w), w.message])).toEqual([
      [
        4,
        17,
        'run.command',
        "run.command is not used when a Dockerfile builds the image: the image's own ENTRYPOINT/CMD runs; set CMD in the Dockerfile, or remove run.command",
      ],
    ]);
  });

  it('takes a base image with the artifact folder and run.command', () => {
    const { config } = configOf(
      `${steps}  artifact: { path: dist }\n  image: { base: "127.0.0.1:5000/gantry-base/node:20" }\nrun: { command: node server.js }\n`,
    );
    expect(config.build.image).toEqual({ base: '127.0.0.1:5000/gantry-base/node:20' });
    expect(config.build.artifact).toEqual({ path: 'dist' });
    expect(artifactKind(config)).toBe('image');
  });

  it('refuses a base image without artifact or run.command, and both dockerfile and base', () => {
    expect(errorsOf(`${steps}  image: { base: node:20 }\n`).map((e) => [...where(e), e.message])).toEqual([
      [
        2,
        3,
        'build',
        'missing required key "artifact": with image.base the artifact folder is copied into the image; add e.g. artifact: { path: dist }',
      ],
      [
        3,
        18,
        'build.image.base',
        'an image built from a base runs run.command as its entrypoint; add e.g. run: { command: node server.js }',
      ],
    ]);
    const both = errorsOf(
      `${steps}  artifact: { path: dist }\n  image: { dockerfile: Dockerfile, base: node:20 }\nrun: { command: x }\n`,
    );
    expect(both.map(where)).toEqual([[4, 42, 'build.image.base']]);
    expect(both[0]?.message).toContain('use either dockerfile');
  });

  it('still needs artifact without an image, and run.command in a run section of a tarball', () => {
    const missing = errorsOf(steps);
    expect(missing.map(where)).toEqual([[2, 3, 'build']]);
    expect(missing[0]?.message).toContain('missing required key "artifact"');
    expect(missing[0]?.message).toContain('image: { dockerfile: Dockerfile }');
    const noCommand = errorsOf(`${steps}  artifact: { path: dist }\nrun: { port_env: PORT }\n`);
    expect(noCommand.map((e) => [...where(e), e.message])).toEqual([
      [
        4,
        6,
        'run',
        'missing required key "command" (the shell command that starts the app, e.g. node server.js)',
      ],
    ]);
  });

  it('refuses a bad repository or base with the reason and where', () => {
    const errors = errorsOf(
      `${steps}  image: { repository: Team/Shop, base: "no spaces allowed" }\n  artifact: { path: . }\nrun: { command: x }\n`,
    );
    expect(errors.map(where)).toEqual([
      [3, 24, 'build.image.repository'],
      [3, 41, 'build.image.base'],
    ]);
    expect(errors[0]?.message).toContain('is not a repository name');
    expect(errors[1]?.message).toContain('is not an image reference');
  });

  it('warns that the process driver cannot run an image', () => {
    const { warnings } = configOf(`${steps}  image: {}\nenvironments:\n  qa: { auto_deploy: true }\n`);
    expect(warnings.map((w) => w.message)).toEqual([
      'the process driver runs tar.gz artifacts, but build.image makes this artifact an image; use driver: container',
    ]);
  });

  it('reads run.limits: memory with units or in bytes, cpus as a fraction', () => {
    const limits = (text: string) =>
      configOf(`${header.replace('node server.js }', `node server.js, limits: ${text} }`)}`).config.run
        ?.limits;
    expect(limits('{ memory: 256m, cpus: 0.5 }')).toEqual({ memory: 268_435_456, cpus: 0.5 });
    expect(limits('{ memory: 1G }')).toEqual({ memory: 1024 ** 3 });
    expect(limits('{ memory: 10485760 }')).toEqual({ memory: 10_485_760 });
    expect(parseMemory('512m')).toBe(512 * 1024 ** 2);
    expect(() => parseMemory('512k')).toThrow('below 6m');
  });

  it.each([
    ['{ memory: 1k }', 'run.limits.memory', 'below 6m'],
    ['{ memory: lots }', 'run.limits.memory', 'is not a memory size'],
    ['{ cpus: 0 }', 'run.limits.cpus', 'expected a number of CPUs > 0'],
    ['{ cpus: "1" }', 'run.limits.cpus', 'expected a number'],
    ['{ swap: 1g }', 'run.limits.swap', 'unknown key "swap"'],
  ])('refuses run.limits %s', (text, path, reason) => {
    const errors = errorsOf(`${header.replace('node server.js }', `node server.js, limits: ${text} }`)}`);
    expect(errors.map((e) => e.path)).toEqual([path]);
    expect(errors[0]?.message).toContain(reason);
  });
});

describe('parseGantryYaml: hosts (deploy agents)', () => {
  it('takes host: one label or hosts: a list', () => {
    const { config } = configOf(
      `${header}environments:\n  qa: { host: web-1 }\n  production: { hosts: [web-1, web-2], driver: container }\n`,
    );
    expect(config.environments?.qa?.host).toBe('web-1');
    expect(config.environments?.production?.hosts).toEqual(['web-1', 'web-2']);
  });

  it('refuses hosts with the command driver, both keys, a label twice and a bad label, at their line and column', () => {
    const errors = errorsOf(
      `${header}environments:\n  qa: { driver: command, deploy: ./d.sh, hosts: [web-1] }\n  staging: { host: web-1, hosts: [web-2] }\n  production: { hosts: [web-1, web-1] }\n  demo: { host: Web_1 }\n`,
    );
    expect(errors.map(where)).toEqual([
      [4, 49, 'environments.qa.hosts'],
      [5, 20, 'environments.staging.host'],
      [6, 24, 'environments.production.hosts'],
      [7, 17, 'environments.demo.host'],
    ]);
    expect(errors[0]?.message).toContain('the command driver runs on the server');
    expect(errors[1]?.message).toContain('either host (one agent) or hosts (a list), not both');
    expect(errors[2]?.message).toContain('a host is listed twice');
    expect(errors[3]?.message).toContain('is not a label');
  });
});
