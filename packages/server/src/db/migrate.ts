import { type Kysely, type Migration, Migrator } from 'kysely';
import type { DialectCapabilities } from './dialects/dialect-capabilities.js';
import { initial } from './migrations/001-initial.js';
import { buildListIndexes } from './migrations/002-build-list-indexes.js';
import { deployments } from './migrations/003-deployments.js';
import { toggles } from './migrations/004-toggles.js';
import { toggleClients } from './migrations/005-toggle-clients.js';
import { releases } from './migrations/006-releases.js';
import { incidents } from './migrations/007-incidents.js';
import { metrics } from './migrations/008-metrics.js';
import { appRemovalAndHookApps } from './migrations/009-app-removal-and-hook-apps.js';
import { toggleClientFetches } from './migrations/010-toggle-client-fetches.js';
import { imageArtifacts } from './migrations/011-image-artifacts.js';
import { consoleSessions } from './migrations/012-console-sessions.js';
import { checksAndReverts } from './migrations/013-checks-and-reverts.js';
import { notifications } from './migrations/014-notifications.js';
import { forge } from './migrations/015-forge.js';
import { audit } from './migrations/017-audit.js';
import { secrets } from './migrations/018-secrets.js';
import { approvals } from './migrations/019-approvals.js';
import { access } from './migrations/020-access.js';
import { environmentLeases } from './migrations/021-environment-leases.js';
import { cluster } from './migrations/023-cluster.js';
import { buildAgents } from './migrations/024-build-agents.js';
import { hostJobs } from './migrations/025-host-jobs.js';
import { buildLogChunks } from './migrations/026-build-log-chunks.js';
import { agentHostAddresses } from './migrations/027-agent-host-addresses.js';

/** One ordered list of migrations for both engines; engine differences come in through `caps`. */
function migrations(caps: DialectCapabilities): Record<string, Migration> {
  return {
    '001-initial': initial(caps),
    '002-build-list-indexes': buildListIndexes,
    '003-deployments': deployments,
    '004-toggles': toggles(caps),
    '005-toggle-clients': toggleClients,
    '006-releases': releases,
    '007-incidents': incidents,
    '008-metrics': metrics(caps),
    '009-app-removal-and-hook-apps': appRemovalAndHookApps,
    '010-toggle-client-fetches': toggleClientFetches,
    '011-image-artifacts': imageArtifacts,
    '012-console-sessions': consoleSessions,
    '013-checks-and-reverts': checksAndReverts,
    '014-notifications': notifications,
    '015-forge': forge,
    '017-audit': audit,
    '018-secrets': secrets,
    '019-approvals': approvals,
    '020-access': access,
    '021-environment-leases': environmentLeases(caps),
    '023-cluster': cluster(caps),
    '024-build-agents': buildAgents(),
    '025-host-jobs': hostJobs(),
    '026-build-log-chunks': buildLogChunks(caps),
    '027-agent-host-addresses': agentHostAddresses(),
  };
}

export async function migrateToLatest(
  db: Kysely<unknown>,
  caps: DialectCapabilities,
  /** PostgreSQL schema of this database; the migration bookkeeping lives there too. */
  schema?: string,
): Promise<void> {
  const migrator = new Migrator({
    db,
    ...(schema && { migrationTableSchema: schema }),
    provider: { getMigrations: async () => migrations(caps) },
    // 005 arrived after 006 in some databases; each migration only adds its own tables.
    allowUnorderedMigrations: true,
  });
  for (let attempt = 1; ; attempt++) {
    const { error, results } = await migrator.migrateToLatest();
    const failed = results?.find((r) => r.status === 'Error');
    if (!error && !failed) return;
    // Before migrating, Kysely reads the tables of every schema; one dropped meanwhile by someone
    // else (another test run, an operator) fails that read, not a migration: read again.
    if (!failed && attempt < 3 && schemaVanished(error)) continue;
    const cause = error instanceof Error ? error.message : String(error);
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${cause}`);
  }
}

function schemaVanished(error: unknown): boolean {
  return (error as { code?: string } | undefined)?.code === '3F000';
}
