import { randomBytes } from 'node:crypto';

let last = 0;
let seq = 0;

/**
 * Time-ordered, URL-safe id: `<prefix>_<12 hex ms><4 hex seq><6 hex random>`.
 * Sorting ids sorts by creation time, which keeps listings stable on both engines.
 */
export function newId(prefix: string): string {
  const now = Date.now();
  seq = now === last ? seq + 1 : 0;
  last = now;
  return `${prefix}_${now.toString(16).padStart(12, '0')}${(seq & 0xffff).toString(16).padStart(4, '0')}${randomBytes(3).toString('hex')}`;
}

export function nowIso(): string {
  return new Date().toISOString();
}
