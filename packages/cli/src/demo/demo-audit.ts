import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { AuditVerify } from '@gantry/contracts';
import { loadServerConfig, startServer } from '@gantry/server';
import pino from 'pino';
import { ApiClient } from '../api-client.js';
import { CliError } from '../context.js';

/**
 * The audit log's proof, shown on a copy: the demo's database is copied once its server stopped, one
 * row of the copy's audit log is changed by hand, and a server on the copy is asked to verify the
 * chain. It must name that row; the demo's own data is left as it was.
 */
export async function tamperedAuditCopy(
  dataDir: string,
  root: string,
  token: string,
): Promise<{ seq: number; why: string }> {
  const copyDir = join(root, 'tampered-copy');
  await mkdir(copyDir, { recursive: true });
  await copyFile(join(dataDir, 'gantry.db'), join(copyDir, 'gantry.db'));
  const { config, errors } = loadServerConfig({ dataDir: copyDir, port: 0 }, {});
  if (errors.length) throw new CliError(errors.join('\n'));
  const copy = await startServer(config, { logger: pino({ level: 'error' }), background: false });
  try {
    const db = copy.gantry.database.db;
    const rows = await db.selectFrom('audit_log').select(['seq', 'actor']).orderBy('seq').limit(3).execute();
    const row = rows.at(-1);
    if (!row) throw new CliError('the demo left no audit rows to change');
    await db
      .updateTable('audit_log')
      .set({ actor: 'token:someone-else' })
      .where('seq', '=', row.seq)
      .execute();
    const api = new ApiClient({ url: copy.url, token, source: 'demo' });
    const v = await api.post<AuditVerify>('/api/audit/verify');
    if (v.ok || !v.firstBroken)
      throw new CliError(
        `the audit log of the tampered copy checks out: row ${row.seq} was changed and not found`,
      );
    return { seq: v.firstBroken.seq, why: v.firstBroken.why };
  } finally {
    await copy.stop();
  }
}
