import { describe, expect, it } from 'vitest';
import { toggleHistory } from '../../src/pages/toggles/toggle-history.js';

const at = '2026-12-03T10:00:00.000Z';

describe("a toggle's history in words", () => {
  it('lists created, switched, strategy and release changes newest first', () => {
    const h = toggleHistory([
      { id: 1, type: 'toggle.created', actor: 'ann', data: { after: {} }, createdAt: at },
      {
        id: 2,
        type: 'toggle.changed',
        actor: 'ann',
        data: {
          env: 'production',
          before: { enabled: false, strategies: [], variants: [] },
          after: {
            enabled: true,
            strategies: [{ name: 'flexibleRollout', parameters: { rollout: '25' }, constraints: [] }],
            variants: [],
          },
        },
        createdAt: at,
      },
      {
        id: 3,
        type: 'toggle.changed',
        actor: 'bob',
        data: {
          env: 'qa',
          release: 'spring',
          revert: true,
          before: { enabled: true, strategies: [], variants: [] },
          after: { enabled: false, strategies: [], variants: [] },
        },
        createdAt: at,
      },
      { id: 4, type: 'segment.changed', actor: 'x', data: {}, createdAt: at },
      {
        id: 5,
        type: 'toggle.changed',
        actor: 'ann',
        data: { before: { description: 'a' }, after: { description: 'b' } },
        createdAt: at,
      },
    ]);
    expect(h.map((e) => e.id)).toEqual([5, 3, 2, 1]);
    expect(h[0]?.what).toEqual(['description: a → b']);
    expect(h[1]).toMatchObject({
      env: 'qa',
      what: ['turned off'],
      release: { name: 'spring', revert: true },
    });
    expect(h[2]?.what).toEqual(['turned on', 'strategies: none (everyone) → Gradual rollout 25%']);
    expect(h[3]?.what).toEqual(['created']);
  });
});
