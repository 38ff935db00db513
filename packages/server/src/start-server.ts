import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { ServerConfig } from './config/server-config.js';
import { secureDataDir } from './data-dir-modes.js';
import { LogRetention } from './features/builds/log-retention.js';
import { RetentionSchedule } from './features/retention/retention-schedule.js';
import { type CreateGantryOptions, createGantry, type Gantry } from './gantry.js';
import { buildHttpApp } from './http/http-app.js';
import { createServerLog } from './server-log.js';

export interface RunningServer {
  url: string;
  /** Set on the first start only: the admin token, shown once. */
  adminToken?: string;
  gantry: Gantry;
  http: FastifyInstance;
  stop(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  schema?: string;
  /** Start the build runner and the poller (default true). */
  background?: boolean;
  /** PostgreSQL: how the LISTEN connection reconnects (tests). */
  cluster?: CreateGantryOptions['cluster'];
}

/**
 * Opens the store, starts the HTTP API, the build runner and the poller. On the first start it
 * creates an admin token and writes `<dataDir>/cli.json` so the CLI on this machine needs no setup.
 */
export async function startServer(config: ServerConfig, opts: StartOptions = {}): Promise<RunningServer> {
  await secureDataDir(config.dataDir);
  const serverLog = opts.logger ? undefined : await createServerLog(config);
  const logger = opts.logger ?? serverLog!.logger;
  const schema = opts.schema ?? config.databaseSchema;
  const gantry = await createGantry(config, { logger, schema, cluster: opts.cluster });
  const http = await buildHttpApp(gantry);
  await http.listen({ host: config.host, port: config.port });
  const addr = http.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  const url =
    config.publicUrl ??
    `${config.tls ? 'https' : 'http'}://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  let adminToken: string | undefined;
  if ((await gantry.tokens.count()) === 0) {
    adminToken = (await gantry.tokens.create('admin', 'admin', 'server')).token;
  }
  const cliFile = join(config.dataDir, 'cli.json');
  if (adminToken) {
    await writeFile(cliFile, `${JSON.stringify({ url, token: adminToken }, null, 2)}\n`, { mode: 0o600 });
    await chmod(cliFile, 0o600);
  } else {
    await updateUrl(cliFile, url);
  }
  const retention = new LogRetention({
    logsDir: join(config.dataDir, 'logs'),
    buildLogs: { keep: config.buildLogsKeep, maxAgeMs: config.buildLogsMaxAgeMs },
    running: async () =>
      new Set((await gantry.builds.list({ status: 'running', limit: 1000 })).map((b) => b.id)),
    serverLog: config.logFile
      ? { file: config.logFile, policy: { keep: config.logFileKeep, maxAgeMs: config.logFileMaxAgeMs } }
      : undefined,
    ...(gantry.sharedLogs && { shared: gantry.sharedLogs }),
    logger: gantry.logger,
  });
  // Artifact retention at start and hourly (GANTRY_ARTIFACTS_GC=0 leaves it to `gantry gc`).
  const artifactRetention = new RetentionSchedule({ retention: gantry.retention, logger: gantry.logger });
  gantry.site.url ??= url;
  // Work that must happen once among the servers sharing a PostgreSQL database runs on the leader.
  const leader = gantry.leader;
  leader.addDuty({ name: 'poller', start: () => gantry.poller.start(), stop: () => gantry.poller.stop() });
  leader.addDuty({
    name: 'scheduled releases',
    start: () => gantry.releases.startScheduler(),
    stop: () => gantry.releases.stopScheduler(),
  });
  if (config.artifactsGc)
    leader.addDuty({
      name: 'artifact retention',
      start: () => artifactRetention.start(),
      stop: () => artifactRetention.stop(),
    });
  if (opts.background !== false) {
    retention.start();
    await gantry.runner.start();
    await gantry.deployer.start();
    await gantry.verifier.recover();
    await gantry.reverter.recover();
    await leader.start();
    await gantry.dispatcher.start();
    // Deployments that finished while the server was down reach the metrics ledger now.
    gantry.metricsLedger
      .catchUpAll()
      .catch((err: unknown) => gantry.logger.error({ err }, 'metrics ledger: catch-up failed'));
  }
  return {
    url,
    adminToken,
    gantry,
    http,
    async stop() {
      await http.close();
      await gantry.leader.stop();
      await retention.stop();
      await artifactRetention.stop();
      await gantry.close();
      await serverLog?.close();
    },
  };
}

async function updateUrl(file: string, url: string): Promise<void> {
  const current = await readFile(file, 'utf8').catch(() => null);
  if (!current) return;
  try {
    const parsed = JSON.parse(current) as { url?: string; token?: string };
    if (parsed.url !== url)
      await writeFile(file, `${JSON.stringify({ ...parsed, url }, null, 2)}\n`, { mode: 0o600 });
  } catch {
    // a hand-edited file that no longer parses is left for its owner
  }
}
