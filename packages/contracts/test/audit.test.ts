import { describe, expect, it } from 'vitest';
import { auditQuerySchema, auditTimeProblem, resolveAuditTime } from '../src/index.js';

describe('times the audit log is searched by', () => {
  const now = Date.parse('2026-03-08T12:00:00.000Z');

  it('reads ages and ISO 8601 times as UTC', () => {
    expect(resolveAuditTime('30m', now)).toBe('2026-03-08T11:30:00.000Z');
    expect(resolveAuditTime('12h', now)).toBe('2026-03-08T00:00:00.000Z');
    expect(resolveAuditTime('7d', now)).toBe('2026-03-01T12:00:00.000Z');
    expect(resolveAuditTime('2w', now)).toBe('2026-02-22T12:00:00.000Z');
    expect(resolveAuditTime('2026-03-01', now)).toBe('2026-03-01T00:00:00.000Z');
    expect(resolveAuditTime('2026-03-01T10:00:00+02:00', now)).toBe('2026-03-01T08:00:00.000Z');
    expect(resolveAuditTime('2026-03-01T10:00Z', now)).toBe('2026-03-01T10:00:00.000Z');
  });

  it('refuses what is not one, saying what is', () => {
    for (const bad of ['yesterday', '7', '7 days', '-7d', '2026-02-30', '2026-03-01T10:00', '1y']) {
      expect(auditTimeProblem(bad), bad).toMatch(/is not a time: give an age such as 30m, 12h, 7d or 2w/);
      expect(() => resolveAuditTime(bad, now)).toThrow(RangeError);
    }
  });

  it('checks the query of GET /api/audit', () => {
    expect(auditQuerySchema.parse({ since: '7d', limit: '20', before: '31' })).toEqual({
      since: '7d',
      limit: 20,
      before: 31,
    });
    const bad = auditQuerySchema.safeParse({ since: 'last week', limit: '5000', colour: 'red' });
    expect(bad.success).toBe(false);
    const messages = bad.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(messages.join('\n')).toMatch(/since: "last week" is not a time/);
    expect(messages.join('\n')).toMatch(/limit: .*1000/);
    expect(messages.join('\n')).toMatch(/colour/);
  });
});
