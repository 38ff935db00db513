import type { Kysely, Migration } from 'kysely';
import type { DialectCapabilities } from '../dialects/dialect-capabilities.js';

export function initial(caps: DialectCapabilities): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('apps')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('repo_url', 'text', (c) => c.notNull())
        .addColumn('branch', 'text', (c) => c.notNull())
        .addColumn('webhook_secret', 'text', (c) => c.notNull())
        .addColumn('poll_interval_ms', 'integer', (c) => c.notNull())
        .addColumn('head_sha', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('pushes')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('app_id', 'text', (c) => c.notNull().references('apps.id'))
        .addColumn('ref', 'text', (c) => c.notNull())
        .addColumn('before_sha', 'text')
        .addColumn('after_sha', 'text', (c) => c.notNull())
        .addColumn('forced', 'integer', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('commit_count', 'integer', (c) => c.notNull())
        .addColumn('dropped', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('commits')
        .addColumn('app_id', 'text', (c) => c.notNull().references('apps.id'))
        .addColumn('sha', 'text', (c) => c.notNull())
        .addColumn('parents', 'text', (c) => c.notNull())
        .addColumn('author_name', 'text', (c) => c.notNull())
        .addColumn('author_email', 'text', (c) => c.notNull())
        .addColumn('authored_at', 'text', (c) => c.notNull())
        .addColumn('committed_at', 'text', (c) => c.notNull())
        .addColumn('message', 'text', (c) => c.notNull())
        .addColumn('seen_at', 'text', (c) => c.notNull())
        .addColumn('push_id', 'text')
        .addPrimaryKeyConstraint('commits_pk', ['app_id', 'sha'])
        .execute();

      await db.schema
        .createTable('builds')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('app_id', 'text', (c) => c.notNull().references('apps.id'))
        .addColumn('sha', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('requested_by', 'text', (c) => c.notNull())
        .addColumn('queued_at', 'text', (c) => c.notNull())
        .addColumn('started_at', 'text')
        .addColumn('finished_at', 'text')
        .addColumn('heartbeat_at', 'text')
        .addColumn('runner_id', 'text')
        .addColumn('attempt', 'integer', (c) => c.notNull())
        .addColumn('cancel_requested', 'integer', (c) => c.notNull())
        .addColumn('slo_ms', 'integer', (c) => c.notNull())
        .addColumn('slo_breached', 'integer', (c) => c.notNull())
        .addColumn('exit_code', 'integer')
        .addColumn('error', 'text')
        .addColumn('artifact_id', 'text')
        .execute();
      await db.schema
        .createIndex('builds_status_queued')
        .on('builds')
        .columns(['status', 'queued_at'])
        .execute();
      await db.schema.createIndex('builds_app_sha').on('builds').columns(['app_id', 'sha']).execute();

      await db.schema
        .createTable('build_steps')
        .addColumn('build_id', 'text', (c) => c.notNull().references('builds.id'))
        .addColumn('idx', 'integer', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('run', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('started_at', 'text')
        .addColumn('finished_at', 'text')
        .addColumn('exit_code', 'integer')
        .addColumn('log_tail', 'text')
        .addColumn('pid', 'integer')
        .addPrimaryKeyConstraint('build_steps_pk', ['build_id', 'idx'])
        .execute();

      await db.schema
        .createTable('artifacts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('app_id', 'text', (c) => c.notNull().references('apps.id'))
        .addColumn('sha', 'text', (c) => c.notNull())
        .addColumn('digest', 'text', (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('build_id', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('current', 'integer', (c) => c.notNull())
        .addColumn('pruned_at', 'text')
        .execute();
      await db.schema.createIndex('artifacts_app_sha').on('artifacts').columns(['app_id', 'sha']).execute();

      await db.schema
        .createTable('events')
        .addColumn('id', caps.serialType, (c) => caps.serialColumn(c))
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('app_id', 'text')
        .addColumn('subject', 'text')
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull().unique())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('last_used_at', 'text')
        .execute();
    },
  };
}
