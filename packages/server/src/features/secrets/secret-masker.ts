/** What a secret's value becomes in logs, check output and events. */
export const MASK = '***';
const MASK_BYTES = Buffer.from(MASK);
/** Shorter pieces are not masked (SECRET_VALUE_MIN refuses such values; lines of longer ones are skipped). */
const MIN_MASKED = 4;

/** One pass over a stream of output: chunks in, masked chunks out, a value split across chunks included. */
export interface MaskStream {
  /** The masked output that is safe to pass on; a tail that could start a value is held back. */
  push(chunk: Buffer): Buffer;
  /** The rest held back, masked: call once, when the stream ends. */
  end(): Buffer;
}

/**
 * Replaces the values a build or deployment was given with `***`: each value whole and, for a value
 * of several lines, each of its lines (a step may print one line of a key, or a terminal may turn
 * its `\n` into `\r\n`). Made per build or deployment from the values it injected.
 *
 * @example
 * const m = new SecretMasker(['hunter22']);
 * m.text('password=hunter22'); // 'password=***'
 */
export class SecretMasker {
  private readonly patterns: Buffer[];
  private readonly longest: number;

  constructor(values: Iterable<string>) {
    const pieces = new Set<string>();
    for (const value of values) {
      if (value.length >= MIN_MASKED) pieces.add(value);
      if (!/[\r\n]/.test(value)) continue;
      for (const line of value.split(/\r?\n|\r/)) if (line.trim().length >= MIN_MASKED) pieces.add(line);
    }
    // Longest first: where two start at the same place, the longer is masked whole.
    this.patterns = [...pieces].map((p) => Buffer.from(p, 'utf8')).sort((a, b) => b.length - a.length);
    this.longest = this.patterns[0]?.length ?? 0;
  }

  get empty(): boolean {
    return this.patterns.length === 0;
  }

  text(s: string): string {
    if (this.empty || s.length === 0) return s;
    const m = this.stream();
    return Buffer.concat([m.push(Buffer.from(s, 'utf8')), m.end()]).toString('utf8');
  }

  stream(): MaskStream {
    let pending: Buffer = Buffer.alloc(0);
    return {
      push: (chunk) => {
        if (this.empty) return chunk;
        const { out, rest } = this.scan(pending.length ? Buffer.concat([pending, chunk]) : chunk, false);
        pending = rest;
        return out;
      },
      end: () => {
        const { out } = this.scan(pending, true);
        pending = Buffer.alloc(0);
        return out;
      },
    };
  }

  /** Masks every whole value in `buf`; unless `final`, keeps back a tail that may be the start of one. */
  private scan(buf: Buffer, final: boolean): { out: Buffer; rest: Buffer } {
    const out: Buffer[] = [];
    let at = 0;
    for (;;) {
      let best = -1;
      let length = 0;
      for (const p of this.patterns) {
        const i = buf.indexOf(p, at);
        if (i !== -1 && (best === -1 || i < best)) {
          best = i;
          length = p.length;
        }
      }
      if (best === -1) break;
      out.push(buf.subarray(at, best), MASK_BYTES);
      at = best + length;
    }
    let hold = buf.length;
    if (!final) {
      for (let j = Math.max(at, buf.length - this.longest + 1); j < buf.length; j++) {
        const tail = buf.subarray(j);
        if (this.patterns.some((p) => p.length > tail.length && p.subarray(0, tail.length).equals(tail))) {
          hold = j;
          break;
        }
      }
    }
    out.push(buf.subarray(at, hold));
    // A copy: the tail kept back must not pin the whole chunk it came from.
    return { out: Buffer.concat(out), rest: Buffer.from(buf.subarray(hold)) };
  }
}

/** A masker that masks nothing, where no secret was injected. */
export const NO_MASK = new SecretMasker([]);
