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
