import { describe, expect, it } from 'vitest';
import { MASK, SecretMasker } from '../../src/features/secrets/secret-masker.js';

/** Feeds `text` through a stream in the given pieces and returns what came out. */
function streamed(m: SecretMasker, pieces: string[]): string {
  const s = m.stream();
  const out = pieces.map((p) => s.push(Buffer.from(p, 'utf8')).toString('utf8'));
  return out.join('') + s.end().toString('utf8');
}

describe('SecretMasker', () => {
  it('replaces each value with *** wherever it appears, and leaves other text alone', () => {
    const m = new SecretMasker(['hunter22', 's3cr3t-token']);
    expect(m.text('password=hunter22 token=s3cr3t-token again hunter22')).toBe(
      `password=${MASK} token=${MASK} again ${MASK}`,
    );
    expect(m.text('nothing secret here: hunter2')).toBe('nothing secret here: hunter2');
  });

  it('masks a value split across two chunks at every possible place', () => {
    const value = 'correct-horse-battery';
    const m = new SecretMasker([value]);
    const text = `before ${value} after`;
    for (let cut = 0; cut <= text.length; cut++) {
      expect(streamed(m, [text.slice(0, cut), text.slice(cut)])).toBe(`before ${MASK} after`);
    }
    // One byte at a time, too.
    expect(streamed(m, [...text])).toBe(`before ${MASK} after`);
  });

  it('holds back only a tail that could still become a value', () => {
    const m = new SecretMasker(['abcdef']);
    const s = m.stream();
    expect(s.push(Buffer.from('line one\nxyz')).toString()).toBe('line one\nxyz');
    expect(s.push(Buffer.from('...abc')).toString()).toBe('...');
    // It was not a value after all: released as it was.
    expect(s.push(Buffer.from('abx\n')).toString()).toBe('abcabx\n');
    expect(s.push(Buffer.from('ab')).toString()).toBe('');
    expect(s.end().toString()).toBe('ab');
  });

  it('masks each line of a value of several lines, and the longer of two values starting at one place', () => {
    const pem = '-----BEGIN KEY-----\nMIIEvQIBADANBgkq\nhkiG9w0BAQEFAASC\n-----END KEY-----';
    const m = new SecretMasker([pem, 'abcd', 'abcdefgh']);
    expect(m.text(pem)).toBe(MASK);
    // A terminal turns \n into \r\n; each line is still hidden.
    expect(m.text(pem.replaceAll('\n', '\r\n'))).toBe([MASK, MASK, MASK, MASK].join('\r\n'));
    expect(m.text('print MIIEvQIBADANBgkq only')).toBe(`print ${MASK} only`);
    expect(m.text('abcdefgh abcd')).toBe(`${MASK} ${MASK}`);
  });

  it('keeps multi-byte characters whole and masks values that contain them', () => {
    const m = new SecretMasker(['päss-wört']);
    const text = 'ünïcode päss-wört ✓';
    const bytes = Buffer.from(text);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const s = m.stream();
      const out = Buffer.concat([s.push(bytes.subarray(0, cut)), s.push(bytes.subarray(cut)), s.end()]);
      expect(out.toString('utf8')).toBe(`ünïcode ${MASK} ✓`);
    }
  });

  it('masks nothing without values, and ignores pieces under 4 characters', () => {
    const none = new SecretMasker([]);
    expect(none.empty).toBe(true);
    const chunk = Buffer.from('anything');
    expect(none.stream().push(chunk)).toBe(chunk);
    expect(new SecretMasker(['abc', 'x\nyz\nlong-line']).text('abc yz long-line')).toBe(`abc yz ${MASK}`);
  });
});
