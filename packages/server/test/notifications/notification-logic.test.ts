import type { GantryEvent } from '@gantry/contracts';
import { describe, expect, it } from 'vitest';
import { InvalidInput } from '../../src/errors.js';
import { MAX_RETRY_DELAY_MS, retryAfterMs, retryDelay } from '../../src/features/notifications/backoff.js';
import { checkEventFilter, matchesFilter } from '../../src/features/notifications/event-filter.js';
import { summarize } from '../../src/features/notifications/event-summary.js';
import { signatureHeaders, slackBody } from '../../src/features/notifications/webhook-format.js';
import { checkReceiverUrl, maskUrl } from '../../src/features/notifications/webhook-url.js';
import { verifyGantrySignature } from './receiver.js';

const event = (type: string, data: Record<string, unknown>, subject = 'dep_1'): GantryEvent =>
  ({
    id: 7,
    type,
    appId: 'app_1',
    subject,
    actor: 'deployer',
    data,
    createdAt: '2026-01-01T00:00:00.000Z',
  }) as GantryEvent;

describe('event filters', () => {
  it('takes types, prefixes and *, and refuses a typo with the closest name', () => {
    expect(checkEventFilter(['deployment.*', 'incident.opened', 'build.step.*', '*'])).toEqual([
      'deployment.*',
      'incident.opened',
      'build.step.*',
      '*',
    ]);
    const typo = (f: string) => {
      try {
        checkEventFilter([f]);
      } catch (e) {
        expect(e).toBeInstanceOf(InvalidInput);
        return (e as Error).message;
      }
      throw new Error(`${f} was taken`);
    };
    expect(typo('deploymnet.failed')).toContain('did you mean "deployment.failed"?');
    expect(typo('deploymnet.*')).toContain('did you mean "deployment.*"?');
    expect(typo('incident')).toContain('did you mean "incident.*"?');
    expect(typo('nothing.like.this')).toContain('is not an event type');
    expect(() => checkEventFilter([])).toThrow(InvalidInput);
  });

  it('matches exact types and prefixes only', () => {
    expect(matchesFilter(['deployment.*'], 'deployment.succeeded')).toBe(true);
    expect(matchesFilter(['deployment.*'], 'deploymentx.succeeded')).toBe(false);
    expect(matchesFilter(['build.failed'], 'build.failed')).toBe(true);
    expect(matchesFilter(['build.failed'], 'build.step.finished')).toBe(false);
    expect(matchesFilter(['*'], 'toggle.changed')).toBe(true);
  });
});

describe('receiver URLs', () => {
  it('takes http and https only, without fragments', () => {
    expect(checkReceiverUrl(' https://hooks.example.com/x ')).toBe('https://hooks.example.com/x');
    expect(() => checkReceiverUrl('ftp://example.com/x')).toThrow(/ftp URLs are not sent to/);
    expect(() => checkReceiverUrl('file:///etc/passwd')).toThrow(/file URLs are not sent to/);
    expect(() => checkReceiverUrl('hooks.example.com')).toThrow(/not an absolute URL/);
    expect(() => checkReceiverUrl('https://example.com/#x')).toThrow(/fragment/);
  });

  it('masks credentials, query values and secret path segments', () => {
    expect(maskUrl('https://bot:s3cret@example.com/hook?token=abc&x=1')).toBe(
      'https://bot:***@example.com/hook?token=***&x=***',
    );
    expect(maskUrl('https://tokenonly@example.com/hook')).toBe('https://***@example.com/hook');
    expect(maskUrl('https://hooks.slack.com/services/T0/B0/XXXXSECRET')).toBe(
      'https://hooks.slack.com/services/T0/B0/***',
    );
    expect(maskUrl('http://127.0.0.1:9/plain')).toBe('http://127.0.0.1:9/plain');
  });
});

describe('retries', () => {
  it('doubles the wait from the base, takes off a random half, and never waits over an hour', () => {
    expect(retryDelay(1, 1000, () => 1)).toBe(1000);
    expect(retryDelay(1, 1000, () => 0)).toBe(500);
    expect(retryDelay(4, 1000, () => 1)).toBe(8000);
    expect(retryDelay(4, 1000, () => 0.5)).toBe(6000);
    expect(retryDelay(40, 1000, () => 1)).toBe(MAX_RETRY_DELAY_MS);
    for (let n = 1; n < 30; n++) {
      const d = retryDelay(n, 10_000);
      expect(d).toBeGreaterThanOrEqual(Math.min(MAX_RETRY_DELAY_MS, 10_000 * 2 ** (n - 1)) / 2);
      expect(d).toBeLessThanOrEqual(MAX_RETRY_DELAY_MS);
    }
  });

  it("reads a receiver's Retry-After in seconds or as a date", () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs('30', now)).toBe(30_000);
    expect(retryAfterMs('Thu, 01 Jan 2026 00:01:00 GMT', now)).toBe(60_000);
    expect(retryAfterMs('999999', now)).toBe(MAX_RETRY_DELAY_MS);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs(null, now)).toBeUndefined();
  });
});

describe('formats', () => {
  it('signs the timestamp and the exact body', () => {
    const body = Buffer.from('{"a":"é"}');
    const headers = signatureHeaders('s3cret-value', body, 1_767_225_600);
    const received = {
      method: 'POST',
      url: '/',
      headers: {
        'x-gantry-timestamp': headers['X-Gantry-Timestamp'],
        'x-gantry-signature': headers['X-Gantry-Signature'],
      },
      body,
      json: () => null,
    };
    expect(headers['X-Gantry-Signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifyGantrySignature('s3cret-value', received)).toBe(true);
    expect(verifyGantrySignature('another', received)).toBe(false);
    // A replay with a fresh timestamp does not verify.
    expect(
      verifyGantrySignature('s3cret-value', {
        ...received,
        headers: { ...received.headers, 'x-gantry-timestamp': '1767225601' },
      }),
    ).toBe(false);
  });

  it('says what happened in one sentence', () => {
    const succeeded = event('deployment.succeeded', { env: 'production', sha: 'abc1234def', kind: 'switch' });
    const deployment = {
      startedAt: '2026-01-01T00:00:00.000Z',
      finishedAt: '2026-01-01T00:00:00.400Z',
      kind: 'switch',
    };
    expect(summarize(succeeded, { app: 'shop', deployment })).toBe(
      'shop: deployment of abc1234 to production succeeded (switch, 0.4 s)',
    );
    expect(
      summarize(
        event('approval.requested', { env: 'production', sha: 'abc1234', required: 2, from: ['group:ops'] }),
        {
          app: 'shop',
        },
      ),
    ).toBe('shop: deployment of abc1234 to production waits for approval (2 needed from group:ops)');
    expect(
      summarize(
        {
          ...event('approval.approved', {
            env: 'production',
            sha: 'abc1234',
            approved: 1,
            required: 2,
            comment: 'looks good',
          }),
          actor: 'user:ana',
        },
        { app: 'shop' },
      ),
    ).toBe('shop: deployment of abc1234 to production approved by user:ana (1 of 2): looks good');
    expect(
      summarize(event('build.failed', { sha: 'f00baa1', error: 'step test exited 1\nmore' }, 'bld_1'), {
        app: 'shop',
      }),
    ).toBe('shop: build of f00baa1 failed: step test exited 1');
    expect(
      summarize(
        event('deployment.check_failed', {
          env: 'qa',
          sha: 'abc1234',
          check: 'smoke',
          error: 'exit 2',
          action: 'rollback',
        }),
        { app: 'shop' },
      ),
    ).toBe('shop: deployment of abc1234 to qa failed check smoke: exit 2 (rollback)');
    expect(summarize(event('token.created', {}, 'tok_1'), { app: null })).toBe(
      'token.created tok_1 by deployer',
    );
  });

  it("escapes Slack's control characters in text that came from repositories", () => {
    const body = slackBody(
      event('deployment.failed', { env: 'qa', sha: 'abc1234', error: '<!channel> & <https://evil|x>' }),
      { app: 'shop' },
      'http://gantry.local/apps/shop/deployments/dep_1',
    ) as { text: string; blocks: { text?: { text: string }; elements?: { text: string }[] }[] };
    expect(body.text).toBe('shop: deployment of abc1234 to qa failed: <!channel> & <https://evil|x>');
    expect(body.blocks[0]!.text!.text).toBe(
      ':red_circle: shop: deployment of abc1234 to qa failed: &lt;!channel&gt; &amp; &lt;https://evil|x&gt;',
    );
    expect(body.blocks[1]!.elements![0]!.text).toBe(
      '`deployment.failed` · by deployer · <http://gantry.local/apps/shop/deployments/dep_1|details>',
    );
  });
});
