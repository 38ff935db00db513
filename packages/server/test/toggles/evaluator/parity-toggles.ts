import type { ClientFeatures } from '../../../src/features/toggles/evaluator/toggle-types.js';

const v = (name: string, weight: number, extra: Record<string, unknown> = {}) => ({
  name,
  weight,
  payload: { type: 'string', value: `${name}-payload` },
  ...extra,
});

/** Corners the client specification does not reach, for the parity test against unleash-client. */
export const parityToggles: ClientFeatures = {
  version: 2,
  segments: [
    { id: 1, constraints: [{ contextName: 'environment', operator: 'IN', values: ['prod', ' dev '] }] },
    { id: 2, constraints: [{ contextName: 'tier', operator: 'NUM_GTE', value: '2' }] },
  ],
  features: [
    {
      name: 'rollout.no-group',
      enabled: true,
      strategies: [{ name: 'flexibleRollout', parameters: { rollout: '50' } }],
    },
    {
      name: 'rollout.custom-stickiness',
      enabled: true,
      strategies: [
        { name: 'flexibleRollout', parameters: { rollout: '30', stickiness: 'tenant', groupId: 'g' } },
      ],
    },
    {
      name: 'rollout.session',
      enabled: true,
      strategies: [
        { name: 'flexibleRollout', parameters: { rollout: '70', stickiness: 'sessionId', groupId: 'g' } },
      ],
    },
    {
      name: 'rollout.nan',
      enabled: true,
      strategies: [{ name: 'flexibleRollout', parameters: { rollout: 'x' } }],
    },
    {
      name: 'gradual.user',
      enabled: true,
      strategies: [{ name: 'gradualRolloutUserId', parameters: { percentage: '40' } }],
    },
    {
      name: 'gradual.session',
      enabled: true,
      strategies: [{ name: 'gradualRolloutSessionId', parameters: { percentage: '60', groupId: 's' } }],
    },
    {
      name: 'users',
      enabled: true,
      strategies: [{ name: 'userWithId', parameters: { userIds: ' 1, 2 ,abc,174' } }],
    },
    {
      name: 'remote',
      enabled: true,
      strategies: [{ name: 'remoteAddress', parameters: { IPs: '10.0.0.0/8, 127.0.0.1,nonsense, ::1' } }],
    },
    {
      name: 'host',
      enabled: true,
      strategies: [{ name: 'applicationHostname', parameters: { hostNames: 'nowhere.example' } }],
    },
    { name: 'unknown-strategy', enabled: true, strategies: [{ name: 'myCustom', parameters: {} }] },
    {
      name: 'unknown-then-default',
      enabled: true,
      strategies: [{ name: 'myCustom' }, { name: 'default', parameters: {} }],
    },
    {
      name: 'segments',
      enabled: true,
      strategies: [{ name: 'default', parameters: {}, segments: [1, 2] }],
    },
    { name: 'segment-missing', enabled: true, strategies: [{ name: 'default', segments: [9] }] },
    {
      name: 'constraints.mixed',
      enabled: true,
      strategies: [
        {
          name: 'default',
          constraints: [
            {
              contextName: 'email',
              operator: 'STR_ENDS_WITH',
              values: ['@Example.com'],
              caseInsensitive: true,
            },
            { contextName: 'tier', operator: 'NUM_LT', value: '10', inverted: true },
          ],
        },
        {
          name: 'default',
          constraints: [
            { contextName: 'version', operator: 'SEMVER_GTE', value: '1.2.0-rc.1' },
            { contextName: 'version', operator: 'SEMVER_LTE', value: '2.0.0' },
          ],
        },
        { name: 'default', constraints: [{ contextName: 'userId', operator: 'REGEX', value: '^a(b|c)+$' }] },
        {
          name: 'default',
          constraints: [{ contextName: 'x', operator: 'DATE_AFTER', value: '2024-06-01T00:00:00Z' }],
        },
        {
          name: 'default',
          constraints: [
            {
              contextName: 'remoteAddress',
              operator: 'IN_CIDR',
              values: ['2001:db8::/32', '192.168.0.0/16'],
            },
          ],
        },
      ],
    },
    {
      name: 'constraints.bad-values',
      enabled: true,
      strategies: [
        { name: 'default', constraints: [{ contextName: 'tier', operator: 'NUM_EQ', value: '' }] },
        { name: 'default', constraints: [{ contextName: 'userId', operator: 'REGEX', value: '(' }] },
        { name: 'default', constraints: [{ contextName: 'version', operator: 'SEMVER_EQ', value: 'nope' }] },
      ],
    },
    {
      name: 'variants.feature',
      enabled: true,
      strategies: [],
      variants: [
        v('a', 0),
        v('b', 20, { stickiness: 'tenant' }),
        v('c', 30, { overrides: [{ contextName: 'tenant', values: ['acme'] }] }),
        v('d', 50, { overrides: [{ contextName: 'userId', values: ['2'] }] }),
      ],
    },
    {
      name: 'variants.zero',
      enabled: true,
      strategies: [{ name: 'default' }],
      variants: [v('z', 0, { overrides: [{ contextName: 'userId', values: ['1'] }] })],
    },
    {
      name: 'variants.strategy',
      enabled: true,
      strategies: [
        {
          name: 'flexibleRollout',
          parameters: { rollout: '80', stickiness: 'tenant' },
          variants: [
            v('s1', 1),
            v('s2', 2, { overrides: [{ contextName: 'environment', values: ['dev'] }] }),
          ],
        },
        { name: 'default', parameters: {}, variants: [v('only', 0)] },
      ],
      variants: [v('f1', 1), v('f2', 1)],
    },
    {
      name: 'parent',
      enabled: true,
      strategies: [{ name: 'flexibleRollout', parameters: { rollout: '50', groupId: 'p' } }],
      variants: [v('red', 1), v('blue', 1)],
    },
    { name: 'child.on', enabled: true, strategies: [], dependencies: [{ feature: 'parent' }] },
    {
      name: 'child.off',
      enabled: true,
      strategies: [],
      dependencies: [{ feature: 'parent', enabled: false }],
    },
    {
      name: 'child.red',
      enabled: true,
      strategies: [],
      dependencies: [{ feature: 'parent', variants: ['red'] }],
    },
    { name: 'grandchild', enabled: true, strategies: [], dependencies: [{ feature: 'child.on' }] },
    { name: 'cycle.a', enabled: true, strategies: [], dependencies: [{ feature: 'cycle.b' }] },
    { name: 'cycle.b', enabled: true, strategies: [], dependencies: [{ feature: 'cycle.a' }] },
    { name: 'self', enabled: true, strategies: [], dependencies: [{ feature: 'self' }] },
    { name: 'missing-parent', enabled: true, strategies: [], dependencies: [{ feature: 'nope' }] },
  ],
};
