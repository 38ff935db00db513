import type { Bucket } from './types.js';

export const DAY_MS = 24 * 60 * 60 * 1000;

export function ms(iso: string): number {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) throw new Error(`invalid timestamp: ${iso}`);
  return t;
}

export interface Window {
  from: number;
  to: number;
}

export function toWindow(from: string, to: string): Window {
  const w = { from: ms(from), to: ms(to) };
  if (w.to < w.from) throw new Error(`window ends before it starts: [${from}, ${to})`);
  return w;
}

export function inWindow(t: number, w: Window): boolean {
  return t >= w.from && t < w.to;
}

/** Start of the UTC day, ISO week (Monday) or calendar month holding t. */
export function bucketStart(t: number, bucket: Bucket): number {
  const d = new Date(t);
  const day = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  if (bucket === 'day') return day;
  if (bucket === 'week') return day - ((d.getUTCDay() + 6) % 7) * DAY_MS;
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

export function nextBucket(start: number, bucket: Bucket): number {
  if (bucket === 'day') return start + DAY_MS;
  if (bucket === 'week') return start + 7 * DAY_MS;
  const d = new Date(start);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/** Every bucket that overlaps the window, including empty ones. */
export function bucketStarts(w: Window, bucket: Bucket): number[] {
  const starts: number[] = [];
  for (let s = bucketStart(w.from, bucket); s < w.to; s = nextBucket(s, bucket)) starts.push(s);
  return starts;
}

export function iso(t: number): string {
  return new Date(t).toISOString();
}

/** Buckets overlapping a window, with a fast index for times inside it. */
export class Buckets {
  readonly starts: number[];

  constructor(
    readonly window: Window,
    readonly bucket: Bucket,
  ) {
    this.starts = bucketStarts(window, bucket);
  }

  /** The index of the bucket holding t, or -1 when t is outside the window. */
  index(t: number): number {
    if (!inWindow(t, this.window)) return -1;
    if (this.bucket === 'day' || this.bucket === 'week') {
      return Math.floor((t - this.starts[0]!) / (this.bucket === 'day' ? DAY_MS : 7 * DAY_MS));
    }
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.starts[mid]! <= t) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Items grouped by bucket (every bucket listed); items outside the window are dropped. */
  group<T>(items: Iterable<T>, at: (item: T) => number): T[][] {
    const out = this.starts.map((): T[] => []);
    for (const item of items) {
      const i = this.index(at(item));
      if (i >= 0) out[i]!.push(item);
    }
    return out;
  }
}
