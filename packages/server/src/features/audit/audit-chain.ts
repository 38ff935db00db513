import { createHash } from 'node:crypto';
import type { AuditLogTable } from '../../db/schema.js';
import { type AuditRecord, PRUNE_ROUTE, storedJson } from './audit-record.js';

/** A row of the chain as stored. */
export type AuditRow = AuditLogTable;
export interface ChainPoint {
  seq: number;
  hash: string;
}
export interface BrokenRow {
  seq: number;
  at: string | null;
  why: string;
}

/**
 * JSON with object keys sorted at every depth and no whitespace, so the same content always gives
 * the same text (and hash), whatever order the engine or the code produced the keys in.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/**
 * `sha256(prev_hash + canonical JSON of the row's content)`. The content is every column but the
 * two hashes, as stored (JSON columns as their text), so verification needs nothing but the row;
 * it includes `seq`, so a row moved to another place no longer matches.
 */
export function rowHash(row: Omit<AuditRow, 'hash'>): string {
  const { prev_hash, ...content } = row;
  return createHash('sha256').update(prev_hash).update(canonicalJson(content)).digest('hex');
}

/** PostgreSQL refuses NUL in text; JSON columns escape it, plain ones get U+FFFD instead. */
function text(value: string): string {
  return value.replaceAll('\u0000', '\uFFFD');
}

/** The records as rows following `after`: each names the previous row's hash and is hashed with it. */
export function linkRows(records: readonly AuditRecord[], after: ChainPoint): AuditRow[] {
  let prev = after;
  return records.map((r) => {
    const unhashed: Omit<AuditRow, 'hash'> = {
      seq: prev.seq + 1,
      at: r.at,
      actor: text(r.actor),
      principal_name: r.principal ? text(r.principal.name) : null,
      principal: r.principal ? JSON.stringify(r.principal) : null,
      method: text(r.method),
      route: text(r.route),
      params: storedJson(r.params) ?? '{}',
      query: storedJson(r.query ?? undefined),
      app: r.app && text(r.app),
      env: r.env && text(r.env),
      ip: r.ip && text(r.ip),
      user_agent: r.userAgent && text(r.userAgent),
      request_id: r.requestId && text(r.requestId),
      status: r.status,
      body: storedJson(r.body),
      before: storedJson(r.before),
      after: storedJson(r.after),
      prev_hash: prev.hash,
    };
    const row = { ...unhashed, hash: rowHash(unhashed) };
    prev = { seq: row.seq, hash: row.hash };
    return row;
  });
}

/**
 * Walks the chain from its anchor, one row at a time in `seq` order, and stops at the first row
 * that breaks it: a missing row (a gap in `seq`), a row whose `prev_hash` is not its predecessor's
 * hash (rows swapped, inserted or removed there), or a row whose hash does not match its content
 * (changed after it was written).
 */
export class ChainCheck {
  rows = 0;
  broken: BrokenRow | null = null;
  private last: ChainPoint;
  /** The anchor the latest pruning in the chain says it left. */
  private prunedTo: ChainPoint | null = null;

  constructor(private readonly anchor: ChainPoint) {
    this.last = anchor;
  }

  /** False once the chain is broken (the row is then not counted). */
  push(row: AuditRow): boolean {
    if (this.broken) return false;
    const expected = this.last.seq + 1;
    if (row.seq !== expected) {
      this.broken =
        row.seq > expected
          ? {
              seq: expected,
              at: null,
              why:
                row.seq === expected + 1
                  ? `row ${expected} is missing: row ${row.seq} follows row ${this.last.seq} (a row was deleted)`
                  : `rows ${expected}…${row.seq - 1} are missing: row ${row.seq} follows row ${this.last.seq} (rows were deleted)`,
            }
          : { seq: row.seq, at: row.at, why: `row ${row.seq} appears again after row ${this.last.seq}` };
      return false;
    }
    if (row.prev_hash !== this.last.hash) {
      this.broken = {
        seq: row.seq,
        at: row.at,
        why:
          row.seq === this.anchor.seq + 1 && this.anchor.seq > 0
            ? `its prev_hash is not the hash of row ${this.anchor.seq}, the last one pruned (rows were removed or changed here)`
            : `its prev_hash is not the hash of row ${this.last.seq} before it: rows were reordered, inserted or removed here, or row ${this.last.seq}'s hash was rewritten`,
      };
      return false;
    }
    const { hash, ...unhashed } = row;
    if (rowHash(unhashed) !== hash) {
      this.broken = {
        seq: row.seq,
        at: row.at,
        why: 'its hash does not match its content: the row was changed after it was written',
      };
      return false;
    }
    if (row.method === 'SYSTEM' && row.route === PRUNE_ROUTE) this.prunedTo = prunedAnchor(row.body);
    this.last = { seq: row.seq, hash: row.hash };
    this.rows++;
    return true;
  }

  /**
   * After the last row: the chain must end at the head (rows deleted from the end show here), and an
   * anchor past the start must be the one the latest pruning recorded (rows deleted from the start).
   */
  end(head: ChainPoint): BrokenRow | null {
    if (this.broken) return this.broken;
    if (this.last.seq < head.seq) {
      const from = this.last.seq + 1;
      this.broken = {
        seq: from,
        at: null,
        why:
          from === head.seq
            ? `row ${from}, the last one written, is missing (deleted)`
            : `rows ${from}…${head.seq} are missing at the end: the log was written up to row ${head.seq}`,
      };
    } else if (this.last.hash !== head.hash) {
      this.broken = {
        seq: this.last.seq,
        at: null,
        why: `its hash is not the one written as the head of the log: rows up to it were rewritten`,
      };
    } else if (
      this.anchor.seq > 0 &&
      (this.prunedTo?.seq !== this.anchor.seq || this.prunedTo.hash !== this.anchor.hash)
    ) {
      // The rows after the last recorded pruning's anchor (or from the first) went without a record.
      const from = !this.prunedTo ? 1 : Math.min(this.prunedTo.seq + 1, this.anchor.seq);
      this.broken = {
        seq: from,
        at: null,
        why: `the log starts after row ${this.anchor.seq}, but no pruning recorded in it removed rows up to there: rows ${from}…${this.anchor.seq} were deleted from the start`,
      };
    }
    return this.broken;
  }
}

function prunedAnchor(body: string | null): ChainPoint | null {
  try {
    const anchor = (JSON.parse(body ?? 'null') as { anchor?: ChainPoint } | null)?.anchor;
    return anchor && typeof anchor.seq === 'number' && typeof anchor.hash === 'string' ? anchor : null;
  } catch {
    return null;
  }
}
