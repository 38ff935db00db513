import type { Selectable } from 'kysely';
import type { Db } from '../../db/database.js';
import type { SecretsTable } from '../../db/schema.js';
import { newId, nowIso } from '../../ids.js';
import type { Sealed } from './secret-cipher.js';
import type { SecretRecord, SecretStore } from './secret-store.js';

export class SqlSecretStore implements SecretStore {
  constructor(private readonly db: Db) {}

  async list(appId: string): Promise<SecretRecord[]> {
    const rows = await this.db
      .selectFrom('secrets')
      .selectAll()
      .where('app_id', '=', appId)
      .orderBy('name')
      .orderBy('env')
      .execute();
    return rows.map(toRecord);
  }

  async forEnvironments(appId: string, envs: string[]): Promise<SecretRecord[]> {
    if (envs.length === 0) return [];
    const rows = await this.db
      .selectFrom('secrets')
      .selectAll()
      .where('app_id', '=', appId)
      .where('env', 'in', envs)
      .execute();
    return rows.map(toRecord);
  }

  async save(r: Omit<SecretRecord, 'id' | 'createdAt'>): Promise<boolean> {
    const now = nowIso();
    const values = {
      key_id: r.keyId,
      iv: r.iv,
      ciphertext: r.ciphertext,
      updated_at: r.updatedAt,
      updated_by: r.updatedBy,
    };
    const existing = await this.db
      .selectFrom('secrets')
      .select('id')
      .where('app_id', '=', r.appId)
      .where('env', '=', r.env)
      .where('name', '=', r.name)
      .executeTakeFirst();
    await this.db
      .insertInto('secrets')
      .values({ id: newId('sec'), app_id: r.appId, env: r.env, name: r.name, created_at: now, ...values })
      .onConflict((oc) => oc.columns(['app_id', 'env', 'name']).doUpdateSet(values))
      .execute();
    return existing === undefined;
  }

  async remove(appId: string, env: string, name: string): Promise<boolean> {
    const res = await this.db
      .deleteFrom('secrets')
      .where('app_id', '=', appId)
      .where('env', '=', env)
      .where('name', '=', name)
      .executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  async notUnder(keyId: string, limit: number): Promise<SecretRecord[]> {
    const rows = await this.db
      .selectFrom('secrets')
      .selectAll()
      .where('key_id', '!=', keyId)
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map(toRecord);
  }

  async reseal(
    id: string,
    was: Sealed & { keyId: string },
    next: Sealed & { keyId: string },
  ): Promise<boolean> {
    const res = await this.db
      .updateTable('secrets')
      .set({ key_id: next.keyId, iv: next.iv, ciphertext: next.ciphertext })
      .where('id', '=', id)
      .where('key_id', '=', was.keyId)
      .where('iv', '=', was.iv)
      .where('ciphertext', '=', was.ciphertext)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  async countByKey(): Promise<Map<string, number>> {
    const rows = await this.db
      .selectFrom('secrets')
      .select((eb) => ['key_id', eb.fn.countAll().as('n')])
      .groupBy('key_id')
      .execute();
    return new Map(rows.map((r) => [r.key_id, Number(r.n)]));
  }
}

function toRecord(r: Selectable<SecretsTable>): SecretRecord {
  return {
    id: r.id,
    appId: r.app_id,
    env: r.env,
    name: r.name,
    keyId: r.key_id,
    iv: r.iv,
    ciphertext: r.ciphertext,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    updatedBy: r.updated_by,
  };
}
