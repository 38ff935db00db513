import type { Transaction } from 'kysely';
import type { Db } from '../../db/database.js';
import type { Schema } from '../../db/schema.js';
import { type AuditRow, ChainCheck, type ChainPoint, linkRows } from './audit-chain.js';
import type { AuditRecord } from './audit-record.js';
import type { AuditEnds, AuditFilter, AuditStore, PruneOutcome } from './audit-store.js';

interface HeadRow {
  seq: number;
  hash: string;
  anchor_seq: number;
  anchor_hash: string;
}

/**
 * The audit log in SQL, the same queries on both engines. Every write starts by updating the one
 * head row: that takes its row lock on PostgreSQL (other servers' appends wait for the commit) and
 * the write lock on SQLite, so two writers never chain after the same row.
 */
export class SqlAuditStore implements AuditStore {
  constructor(private readonly db: Db) {}

  async append(records: readonly AuditRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.db.transaction().execute(async (trx) => {
      const head = await lockHead(trx);
      await appendAfter(trx, { seq: head.seq, hash: head.hash }, records);
    });
  }

  async list(f: AuditFilter): Promise<AuditRow[]> {
    let q = this.db.selectFrom('audit_log').selectAll().orderBy('seq', 'desc').limit(f.limit);
    if (f.since) q = q.where('at', '>=', f.since);
    if (f.until) q = q.where('at', '<', f.until);
    if (f.apps?.length) q = q.where('app', 'in', f.apps);
    if (f.env) q = q.where('env', '=', f.env);
    const actor = f.actor;
    if (actor) q = q.where((eb) => eb.or([eb('actor', '=', actor), eb('principal_name', '=', actor)]));
    if (f.before !== undefined) q = q.where('seq', '<', f.before);
    return (await q.execute()).map(normalize);
  }

  async ends(): Promise<AuditEnds> {
    const h = await this.db.selectFrom('audit_head').selectAll().where('id', '=', 1).executeTakeFirst();
    if (!h) throw new Error('the audit log has no head row (audit_head id 1): it was deleted by hand');
    return {
      head: { seq: Number(h.seq), hash: h.hash },
      anchor: { seq: Number(h.anchor_seq), hash: h.anchor_hash },
    };
  }

  async rows(after: number, upTo: number, limit: number): Promise<AuditRow[]> {
    const rows = await this.db
      .selectFrom('audit_log')
      .selectAll()
      .where('seq', '>', after)
      .where('seq', '<=', upTo)
      .orderBy('seq', 'asc')
      .limit(limit)
      .execute();
    return rows.map(normalize);
  }

  async prune(
    cutoff: string,
    maxRows: number,
    note: (removed: number, anchor: ChainPoint) => AuditRecord,
  ): Promise<PruneOutcome> {
    return this.db.transaction().execute(async (trx): Promise<PruneOutcome> => {
      const head = await lockHead(trx);
      const anchor = { seq: head.anchor_seq, hash: head.anchor_hash };
      // The rows before the first one written at or after the cutoff, oldest first.
      const firstKept = await trx
        .selectFrom('audit_log')
        .select((eb) => eb.fn.min('seq').as('seq'))
        .where('at', '>=', cutoff)
        .executeTakeFirst();
      const keptSeq = firstKept?.seq === null || firstKept?.seq === undefined ? null : Number(firstKept.seq);
      const upTo = Math.min(keptSeq === null ? head.seq : keptSeq - 1, anchor.seq + maxRows);
      if (upTo <= anchor.seq) return { removed: 0, anchor };
      const rows = (
        await trx
          .selectFrom('audit_log')
          .selectAll()
          .where('seq', '>', anchor.seq)
          .where('seq', '<=', upTo)
          .orderBy('seq', 'asc')
          .execute()
      ).map(normalize);
      // Never prune evidence: a broken stretch stays for `gantry audit verify` to name.
      const check = new ChainCheck(anchor);
      for (const row of rows) if (!check.push(row)) return { removed: 0, refused: check.broken! };
      const last = rows.at(-1);
      if (!last || last.seq !== upTo) {
        const seq = (last?.seq ?? anchor.seq) + 1;
        return { removed: 0, refused: { seq, at: null, why: `row ${seq} is missing (deleted)` } };
      }
      const newAnchor = { seq: last.seq, hash: last.hash };
      await trx.deleteFrom('audit_log').where('seq', '<=', upTo).execute();
      await trx
        .updateTable('audit_head')
        .set({ anchor_seq: newAnchor.seq, anchor_hash: newAnchor.hash })
        .where('id', '=', 1)
        .execute();
      await appendAfter(trx, { seq: head.seq, hash: head.hash }, [note(rows.length, newAnchor)]);
      return { removed: rows.length, anchor: newAnchor };
    });
  }
}

/** Locks the head row for the transaction (a no-op update) and reads it. */
async function lockHead(trx: Transaction<Schema>): Promise<HeadRow> {
  const h = await trx
    .updateTable('audit_head')
    .set((eb) => ({ seq: eb.ref('seq') }))
    .where('id', '=', 1)
    .returning(['seq', 'hash', 'anchor_seq', 'anchor_hash'])
    .executeTakeFirst();
  if (!h) throw new Error('the audit log has no head row (audit_head id 1): it was deleted by hand');
  return { seq: Number(h.seq), hash: h.hash, anchor_seq: Number(h.anchor_seq), anchor_hash: h.anchor_hash };
}

async function appendAfter(
  trx: Transaction<Schema>,
  head: ChainPoint,
  records: readonly AuditRecord[],
): Promise<void> {
  const rows = linkRows(records, head);
  for (let i = 0; i < rows.length; i += 100) {
    await trx
      .insertInto('audit_log')
      .values(rows.slice(i, i + 100))
      .execute();
  }
  const last = rows.at(-1)!;
  await trx.updateTable('audit_head').set({ seq: last.seq, hash: last.hash }).where('id', '=', 1).execute();
}

/** PostgreSQL gives bigint back as a number (db/dialects/postgres.ts); make sure of it either way. */
function normalize(row: AuditRow): AuditRow {
  return { ...row, seq: Number(row.seq), status: Number(row.status) };
}
