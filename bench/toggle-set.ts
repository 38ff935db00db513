import type { UnleashServer } from './unleash-server.js';

type Constraint = {
  contextName: string;
  operator: string;
  values?: string[];
  value?: string;
  caseInsensitive?: boolean;
  inverted?: boolean;
};
type Variant = {
  name: string;
  weight: number;
  weightType: 'variable' | 'fix';
  stickiness: string;
  payload?: { type: 'string' | 'json'; value: string };
};
type Strategy = {
  name: 'default' | 'flexibleRollout' | 'userWithId';
  parameters: Record<string, string>;
  constraints: Constraint[];
  /** Indexes into SEGMENTS. */
  segments?: number[];
  variants?: Variant[];
};
export interface ToggleSpec {
  name: string;
  type: string;
  enabled: boolean;
  strategies: Strategy[];
  /** Index of the parent toggle. */
  dependsOn?: number;
}

const ids = (from: number, n: number) => Array.from({ length: n }, (_, i) => `user-${from + i * 7}`);
const NORDICS: Constraint = {
  contextName: 'country',
  operator: 'IN',
  values: ['NO', 'SE', 'DK', 'FI', 'IS'],
};

export const SEGMENTS: { name: string; constraints: Constraint[] }[] = [
  { name: 'beta-testers', constraints: [{ contextName: 'userId', operator: 'IN', values: ids(0, 60) }] },
  { name: 'nordics', constraints: [NORDICS] },
];

const rollout = (name: string, percent: number, stickiness = 'default') => ({
  rollout: String(percent),
  stickiness,
  groupId: name,
});

/** Ten shapes, five of each: `i % 10` picks the shape. */
function toggle(i: number): ToggleSpec {
  const shape = i % 10;
  const name = `t${String(i).padStart(2, '0')}-${SHAPES[shape]}`;
  const base = { name, type: i % 3 === 0 ? 'experiment' : 'release', enabled: true };
  switch (shape) {
    case 0:
      return { ...base, strategies: [{ name: 'default', parameters: {}, constraints: [] }] };
    case 1:
      return {
        ...base,
        strategies: [
          {
            name: 'flexibleRollout',
            parameters: rollout(name, 20 + i),
            constraints: [NORDICS, { contextName: 'appVersion', operator: 'SEMVER_GT', value: '1.4.0' }],
          },
        ],
      };
    case 2:
      return {
        ...base,
        strategies: [{ name: 'userWithId', parameters: { userIds: ids(i, 20).join(',') }, constraints: [] }],
      };
    case 3:
      return {
        ...base,
        strategies: [
          {
            name: 'flexibleRollout',
            parameters: rollout(name, 100),
            constraints: [{ contextName: 'tier', operator: 'NUM_GTE', value: '2' }],
            segments: [1],
            variants: ['blue', 'green', 'red'].map((v, k) => ({
              name: v,
              weight: k === 0 ? 200 : 400,
              weightType: k === 0 ? 'fix' : 'variable',
              stickiness: 'default',
              payload: { type: 'json', value: JSON.stringify({ color: v, size: k + 1 }) },
            })),
          },
        ],
      };
    case 4:
      return {
        ...base,
        strategies: [
          { name: 'flexibleRollout', parameters: rollout(name, 50), constraints: [], segments: [1] },
        ],
      };
    case 5:
      return {
        ...base,
        strategies: [
          {
            name: 'flexibleRollout',
            parameters: rollout(name, 100),
            constraints: [
              {
                contextName: 'email',
                operator: 'STR_ENDS_WITH',
                values: ['@EXAMPLE.COM'],
                caseInsensitive: true,
              },
            ],
            segments: [0],
          },
        ],
      };
    case 6:
      return { ...base, enabled: false, strategies: [{ name: 'default', parameters: {}, constraints: [] }] };
    case 7:
      return {
        ...base,
        strategies: [
          { name: 'userWithId', parameters: { userIds: ids(i + 3, 10).join(',') }, constraints: [] },
          {
            name: 'flexibleRollout',
            parameters: rollout(name, 10),
            constraints: [
              { contextName: 'currentTime', operator: 'DATE_AFTER', value: '2024-01-01T00:00:00.000Z' },
            ],
          },
        ],
      };
    case 8:
      return {
        ...base,
        strategies: [
          {
            name: 'flexibleRollout',
            parameters: rollout(name, 60, 'userId'),
            constraints: [{ contextName: 'country', operator: 'IN', values: ['US', 'CA'], inverted: true }],
            variants: ['control', 'treatment'].map((v) => ({
              name: v,
              weight: 500,
              weightType: 'variable',
              stickiness: 'userId',
              payload: { type: 'string', value: v },
            })),
          },
        ],
      };
    default:
      return {
        ...base,
        strategies: [{ name: 'default', parameters: {}, constraints: [] }],
        dependsOn: i - 9,
      };
  }
}

const SHAPES = [
  'default',
  'rollout',
  'users',
  'variants',
  'segment',
  'beta',
  'off',
  'two-strategies',
  'split',
  'dependent',
];

export const TOGGLES: ToggleSpec[] = Array.from({ length: 50 }, (_, i) => toggle(i));

/** The toggle OFREP single evaluations ask for: constraint, segment and variants with a JSON payload. */
export const OFREP_KEY = TOGGLES[13]!.name;

/** Matches most constraints above. */
export const CONTEXT = {
  userId: 'user-42',
  sessionId: 'bench-session',
  properties: { country: 'NO', appVersion: '2.1.0', tier: '3', email: 'someone@example.com' },
};

/** Creates SEGMENTS and TOGGLES in unleash-server's default project through its admin API. */
export async function createInUnleash(u: UnleashServer): Promise<void> {
  // A fresh 8.x database no longer has `userWithId`, which SDKs still evaluate; older servers had it built in.
  const { strategies } = await u.admin<{ strategies: { name: string }[] }>('GET', '/api/admin/strategies');
  if (!strategies.some((s) => s.name === 'userWithId')) {
    await u.admin('POST', '/api/admin/strategies', {
      name: 'userWithId',
      description: 'Active for users with a userId in the list.',
      parameters: [{ name: 'userIds', type: 'list', description: 'user ids', required: false }],
    });
  }
  const segmentIds: number[] = [];
  for (const s of SEGMENTS) {
    segmentIds.push((await u.admin<{ id: number }>('POST', '/api/admin/segments', s)).id);
  }
  const project = '/api/admin/projects/default/features';
  for (const t of TOGGLES) {
    await u.admin('POST', project, { name: t.name, type: t.type });
    for (const s of t.strategies) {
      const segments = (s.segments ?? []).map((k) => segmentIds[k]!);
      await u.admin('POST', `${project}/${t.name}/environments/${u.environment}/strategies`, {
        ...s,
        segments,
      });
    }
    if (t.dependsOn !== undefined) {
      await u.admin('POST', `${project}/${t.name}/dependencies`, {
        feature: TOGGLES[t.dependsOn]!.name,
        enabled: true,
      });
    }
    if (t.enabled) await u.admin('POST', `${project}/${t.name}/environments/${u.environment}/on`);
  }
}
