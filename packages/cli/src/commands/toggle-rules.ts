import {
  type ConstraintOperator,
  constraintOperators,
  type Segment,
  type Toggle,
  type ToggleConstraint,
  type ToggleStrategy,
  type ToggleVariant,
} from '@gantry/contracts';
import type { ApiClient } from '../api-client.js';
import { CliError, client, pickApp } from '../context.js';
import { printJson, table } from '../output.js';
import { describeConstraint, describeEnv, describeStrategy } from './toggle-describe.js';

const base = (app: string) => `/api/apps/${encodeURIComponent(app)}`;
const LIST_OPERATORS = new Set<ConstraintOperator>([
  'IN',
  'NOT_IN',
  'STR_CONTAINS',
  'STR_STARTS_WITH',
  'STR_ENDS_WITH',
  'IN_CIDR',
]);

/**
 * `<context> [NOT] <OPERATOR>[/i] <value>[,<value>…]`, e.g. `userId IN a,b`, `country NOT IN NO`,
 * `email STR_ENDS_WITH/i @acme.com`, `appVersion SEMVER_GT 2.0.0`; or the constraint as JSON.
 */
export function parseConstraint(text: string): ToggleConstraint {
  const t = text.trim();
  if (t.startsWith('{')) {
    try {
      return JSON.parse(t) as ToggleConstraint;
    } catch {
      throw new CliError(`--constraint ${JSON.stringify(text)} is not valid JSON`);
    }
  }
  const m = /^(\S+)\s+(NOT\s+)?([A-Za-z_]+)(\/i)?(?:\s+(.*))?$/.exec(t);
  const usage = `expected "<context> [NOT] <OPERATOR> <values>" (operators: ${constraintOperators.join(', ')})`;
  if (!m) throw new CliError(`--constraint ${JSON.stringify(text)}: ${usage}`);
  const [, contextName, not, op, ci, rest = ''] = m;
  const operator = op!.toUpperCase() as ConstraintOperator;
  if (!constraintOperators.includes(operator))
    throw new CliError(`--constraint ${JSON.stringify(text)}: unknown operator ${op}; ${usage}`);
  const value = rest.trim();
  if (value === '' && operator !== 'IN' && operator !== 'NOT_IN')
    throw new CliError(`--constraint ${JSON.stringify(text)}: ${operator} needs a value`);
  return {
    contextName: contextName!,
    operator,
    ...(LIST_OPERATORS.has(operator)
      ? {
          values: value
            .split(',')
            .map((v) => v.trim())
            .filter((v) => v !== ''),
        }
      : { value }),
    ...(ci && { caseInsensitive: true }),
    ...(not && { inverted: true }),
  };
}

async function segmentIds(api: ApiClient, app: string, names: string[]): Promise<number[]> {
  if (names.length === 0) return [];
  const segments = await api.get<Segment[]>(`${base(app)}/segments`);
  return names.map((name) => {
    const s = segments.find((x) => x.name === name);
    if (!s) {
      const known = segments.map((x) => x.name).join(', ') || 'none yet';
      throw new CliError(
        `no segment "${name}" in ${app} (segments: ${known}); create it with \`gantry toggles segment create\``,
      );
    }
    return s.id;
  });
}

async function putEnv(
  api: ApiClient,
  app: string,
  name: string,
  env: string,
  body: { strategies?: ToggleStrategy[]; variants?: ToggleVariant[] },
): Promise<Toggle> {
  return api.put<Toggle>(`${base(app)}/toggles/${encodeURIComponent(name)}/environments/${env}`, body);
}

const stateOf = (t: Toggle, env: string) => t.environments.find((e) => e.env === env);

function printState(t: Toggle, env: string): void {
  const e = stateOf(t, env);
  process.stdout.write(`${t.name} in ${env}: ${describeEnv(t, env)}\n`);
  e?.strategies.forEach((s, i) => {
    process.stdout.write(`  ${i + 1}. ${describeStrategy(s)}\n`);
  });
  for (const v of e?.variants ?? [])
    process.stdout.write(
      `  variant ${v.name} ${v.weight / 10}%${v.payload ? ` ${v.payload.type} ${v.payload.value}` : ''}\n`,
    );
  if (e && !e.enabled)
    process.stdout.write(`(off in ${env}: \`gantry toggles enable ${t.name} ${env}\` turns it on)\n`);
}

export interface StrategyAddOptions {
  app?: string;
  env: string;
  rollout?: string;
  stickiness?: string;
  groupId?: string;
  users?: string;
  ips?: string;
  hosts?: string;
  constraint?: string[];
  segment?: string[];
  json?: boolean;
}

/** `gantry toggles strategy add`: one more strategy (ORed with the others) in one environment. */
export async function toggleStrategyAdd(name: string, opts: StrategyAddOptions) {
  const kinds = [opts.rollout, opts.users, opts.ips, opts.hosts].filter((x) => x !== undefined);
  if (kinds.length > 1)
    throw new CliError('give one of --rollout, --users, --ips, --hosts (one strategy at a time)');
  let strategy: ToggleStrategy;
  if (opts.rollout !== undefined) {
    const n = Number(opts.rollout.replace(/%$/, ''));
    if (!Number.isInteger(n) || n < 0 || n > 100)
      throw new CliError(`--rollout must be a whole number from 0 to 100, got ${opts.rollout}`);
    strategy = {
      name: 'flexibleRollout',
      parameters: {
        rollout: String(n),
        stickiness: opts.stickiness ?? 'default',
        groupId: opts.groupId ?? name,
      },
      constraints: [],
    };
  } else if (opts.users !== undefined) {
    strategy = { name: 'userWithId', parameters: { userIds: opts.users }, constraints: [] };
  } else if (opts.ips !== undefined) {
    strategy = { name: 'remoteAddress', parameters: { IPs: opts.ips }, constraints: [] };
  } else if (opts.hosts !== undefined) {
    strategy = { name: 'applicationHostname', parameters: { hostNames: opts.hosts }, constraints: [] };
  } else {
    strategy = { name: 'default', parameters: {}, constraints: [] };
  }
  strategy.constraints = (opts.constraint ?? []).map(parseConstraint);
  const api = await client();
  const app = await pickApp(api, opts.app);
  const segments = await segmentIds(api, app, opts.segment ?? []);
  if (segments.length) strategy.segments = segments;
  const current = await api.get<Toggle>(`${base(app)}/toggles/${encodeURIComponent(name)}`);
  const strategies = [...(stateOf(current, opts.env)?.strategies ?? []), strategy];
  const t = await putEnv(api, app, name, opts.env, { strategies });
  if (opts.json) return printJson(t);
  printState(t, opts.env);
}

/** `gantry toggles strategy remove <toggle> <n>`: the n-th strategy (as `strategy list` numbers them). */
export async function toggleStrategyRemove(
  name: string,
  index: string,
  opts: { app?: string; env: string; json?: boolean },
) {
  const api = await client();
  const app = await pickApp(api, opts.app);
  const current = await api.get<Toggle>(`${base(app)}/toggles/${encodeURIComponent(name)}`);
  const strategies = stateOf(current, opts.env)?.strategies ?? [];
  const n = Number(index);
  if (!Number.isInteger(n) || n < 1 || n > strategies.length)
    throw new CliError(
      `${name} has ${strategies.length} strateg${strategies.length === 1 ? 'y' : 'ies'} in ${opts.env}; give a number from \`gantry toggles strategy list ${name} --env ${opts.env}\``,
    );
  const t = await putEnv(api, app, name, opts.env, { strategies: strategies.filter((_, i) => i !== n - 1) });
  if (opts.json) return printJson(t);
  printState(t, opts.env);
}

export async function toggleStrategyList(name: string, opts: { app?: string; env: string; json?: boolean }) {
  const api = await client();
  const app = await pickApp(api, opts.app);
  const t = await api.get<Toggle>(`${base(app)}/toggles/${encodeURIComponent(name)}`);
  if (opts.json) return printJson(stateOf(t, opts.env)?.strategies ?? []);
  printState(t, opts.env);
}

/**
 * `name[:percent[:type:payload]]`: a variant, its share in percent (variants without one share
 * what is left equally) and its payload (`string`, `json`, `csv` or `number`; the rest of the text).
 */
export function parseVariants(specs: string[], stickiness = 'default'): ToggleVariant[] {
  const parsed = specs.map((spec) => {
    const [name = '', weight, type, ...rest] = spec.split(':');
    if (!name)
      throw new CliError(`--variant ${JSON.stringify(spec)}: expected name[:percent[:type:payload]]`);
    const percent = weight === undefined || weight === '' ? undefined : Number(weight);
    if (percent !== undefined && (!Number.isFinite(percent) || percent < 0 || percent > 100))
      throw new CliError(`--variant ${JSON.stringify(spec)}: the share is a percentage from 0 to 100`);
    if (type !== undefined && !['string', 'json', 'csv', 'number'].includes(type))
      throw new CliError(
        `--variant ${JSON.stringify(spec)}: payload type must be string, json, csv or number`,
      );
    const payload = type === undefined ? undefined : { type: type as 'string', value: rest.join(':') };
    return { name, percent, payload };
  });
  const given = parsed.reduce((n, v) => n + (v.percent ?? 0), 0);
  const open = parsed.filter((v) => v.percent === undefined).length;
  if (given > 100.0001) throw new CliError(`the variants' shares add up to ${given}%, more than 100%`);
  if (open === 0 && Math.abs(given - 100) > 0.0001)
    throw new CliError(
      `the variants' shares add up to ${given}%, not 100% (leave one out to give it the rest)`,
    );
  const weights = parsed.map((v) => (v.percent === undefined ? 0 : Math.round(v.percent * 10)));
  let left = 1000 - weights.reduce((a, b) => a + b, 0);
  parsed.forEach((v, i) => {
    if (v.percent !== undefined) return;
    const share = Math.floor(left / open);
    weights[i] = share;
  });
  left = 1000 - weights.reduce((a, b) => a + b, 0);
  const last = parsed.findLastIndex((v) => v.percent === undefined);
  weights[last === -1 ? weights.length - 1 : last]! += left;
  return parsed.map((v, i) => ({
    name: v.name,
    weight: weights[i]!,
    weightType: 'variable' as const,
    stickiness,
    ...(v.payload && { payload: v.payload }),
  }));
}

export async function toggleVariantsSet(
  name: string,
  opts: { app?: string; env: string; variant?: string[]; stickiness?: string; json?: boolean },
) {
  if (!opts.variant?.length)
    throw new CliError('give at least one --variant (or `gantry toggles variants clear`)');
  const variants = parseVariants(opts.variant, opts.stickiness);
  const api = await client();
  const app = await pickApp(api, opts.app);
  const t = await putEnv(api, app, name, opts.env, { variants });
  if (opts.json) return printJson(t);
  printState(t, opts.env);
}

export async function toggleVariantsClear(name: string, opts: { app?: string; env: string; json?: boolean }) {
  const api = await client();
  const app = await pickApp(api, opts.app);
  const t = await putEnv(api, app, name, opts.env, { variants: [] });
  if (opts.json) return printJson(t);
  printState(t, opts.env);
}

export async function segmentCreate(
  name: string,
  opts: { app?: string; constraint?: string[]; description?: string; replace?: boolean; json?: boolean },
) {
  const constraints = (opts.constraint ?? []).map(parseConstraint);
  if (constraints.length === 0) throw new CliError('a segment needs at least one --constraint');
  const api = await client();
  const app = await pickApp(api, opts.app);
  const existing = await api.get<Segment[]>(`${base(app)}/segments`);
  if (!opts.replace && existing.some((s) => s.name === name))
    throw new CliError(`segment "${name}" exists in ${app}; pass --replace to replace its constraints`);
  const s = await api.put<Segment>(`${base(app)}/segments/${encodeURIComponent(name)}`, {
    description: opts.description ?? '',
    constraints,
  });
  if (opts.json) return printJson(s);
  process.stdout.write(
    `segment ${s.name} (#${s.id}): ${s.constraints.map(describeConstraint).join(' and ')}\n` +
      `use it with \`gantry toggles strategy add <toggle> --env <env> --segment ${s.name}\`\n`,
  );
}

export async function segmentList(opts: { app?: string; json?: boolean }) {
  const api = await client();
  const app = await pickApp(api, opts.app);
  const list = await api.get<Segment[]>(`${base(app)}/segments`);
  if (opts.json) return printJson(list);
  table(
    list.map((s) => ({
      id: String(s.id),
      name: s.name,
      constraints: s.constraints.map(describeConstraint).join(' and '),
      description: s.description,
    })),
    ['id', 'name', 'constraints', 'description'],
  );
}
