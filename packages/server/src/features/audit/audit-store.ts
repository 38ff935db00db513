import type { AuditRow, BrokenRow, ChainPoint } from './audit-chain.js';
import type { AuditRecord } from './audit-record.js';

export interface AuditFilter {
  /** ISO 8601 UTC: `at >= since`. */
  since?: string;
  /** ISO 8601 UTC: `at < until`. */
  until?: string;
  /** Any of these (an app's name and id). */
  apps?: string[];
  env?: string;
  /** The actor (`token:ci`) or the principal's name (`ci`). */
  actor?: string;
  /** Only rows with a smaller seq. */
  before?: number;
  limit: number;
}

export interface AuditEnds {
  /** The last row written. */
  head: ChainPoint;
  /** The last row pruned, where the chain starts (seq 0 and the genesis hash before any pruning). */
  anchor: ChainPoint;
}

export type PruneOutcome =
  | { removed: number; anchor: ChainPoint }
  /** The rows to prune do not hold together: they are kept as evidence. */
  | { removed: 0; refused: BrokenRow };

/** The append-only, hash-chained audit log. Appends and pruning hold the head's lock. */
export interface AuditStore {
  /** Chains the records after the head, in order, in one transaction. */
  append(records: readonly AuditRecord[]): Promise<void>;
  /** Newest first. */
  list(f: AuditFilter): Promise<AuditRow[]>;
  ends(): Promise<AuditEnds>;
  /** Rows with `after < seq <= upTo`, oldest first. */
  rows(after: number, upTo: number, limit: number): Promise<AuditRow[]>;
  /**
   * Deletes the oldest rows written before `cutoff` (at most `maxRows`), once they check out, moves
   * the anchor to the last of them and appends `note(removed, anchor)`, all in one transaction.
   */
  prune(
    cutoff: string,
    maxRows: number,
    note: (removed: number, anchor: ChainPoint) => AuditRecord,
  ): Promise<PruneOutcome>;
}
