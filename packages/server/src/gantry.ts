import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { type Cluster, startCluster } from './cluster/cluster.js';
import { newOrigin } from './cluster/cluster-channel.js';
import type { ServerConfig } from './config/server-config.js';
import { type Database, openDatabase } from './db/database.js';
import { createCommandDriver } from './drivers/command/command-driver.js';
import { createContainerDriver } from './drivers/container/container-driver.js';
import { createProcessDriver } from './drivers/process/process-driver.js';
import { EventBus } from './events/event-bus.js';
import { SqlEventStore } from './events/sql-event-store.js';
import { AgentService } from './features/agents/agent-service.js';
import { HostJobs } from './features/agents/host-jobs.js';
import { HostRestore } from './features/agents/host-restore.js';
import { RemoteHostsDriver } from './features/agents/remote-hosts-driver.js';
import { type ApprovalService, createApprovals } from './features/approvals/approval-service.js';
import { AppService } from './features/apps/app-service.js';
import { SqlAppStore } from './features/apps/sql-app-store.js';
import { LocalBlobStore } from './features/artifacts/artifact-blob-store.js';
import { ArtifactService } from './features/artifacts/artifact-service.js';
import { ImageRegistries } from './features/artifacts/image-registries.js';
import { SharedBlobStore } from './features/artifacts/shared-blob-store.js';
import { SqlArtifactStore } from './features/artifacts/sql-artifact-store.js';
import { TokenService } from './features/auth/token-service.js';
import { BuildCache } from './features/builds/build-cache.js';
import { BuildRunner } from './features/builds/build-runner.js';
import { BuildService } from './features/builds/build-service.js';
import { ImageBuilder } from './features/builds/image-build.js';
import { SharedBuildLogs, withSharedStepLogs } from './features/builds/shared-build-logs.js';
import { SqlBuildStore } from './features/builds/sql-build-store.js';
import { SqlCheckStore } from './features/checks/sql-check-store.js';
import { Verifier } from './features/checks/verifier.js';
import { CommitPoller } from './features/commits/commit-poller.js';
import { CommitService } from './features/commits/commit-service.js';
import { SqlCommitStore } from './features/commits/sql-commit-store.js';
import { Deployer } from './features/deployments/deployer.js';
import { DeploymentRecovery } from './features/deployments/deployment-recovery.js';
import { DeploymentService } from './features/deployments/deployment-service.js';
import { DriverRegistry } from './features/deployments/driver-registry.js';
import { SqlDeploymentStore } from './features/deployments/sql-deployment-store.js';
import { TagDeployer } from './features/deployments/tag-deployer.js';
import { environmentOf } from './features/environments/environment-specs.js';
import { appEnvironmentNames } from './features/environments/environment-status.js';
import { SqlEnvironmentStore } from './features/environments/sql-environment-store.js';
import { ForgeChannel } from './features/forge/forge-channel.js';
import { ForgeService } from './features/forge/forge-service.js';
import { SqlForgeStore } from './features/forge/sql-forge-store.js';
import { createIncidentService, type IncidentService } from './features/incidents/incident-service.js';
import { MetricsLedger } from './features/metrics/metrics-ledger.js';
import { MetricsService } from './features/metrics/metrics-service.js';
import { SqlMetricsStore } from './features/metrics/sql-metrics-store.js';
import { NotificationDispatcher } from './features/notifications/dispatcher.js';
import { NotificationService } from './features/notifications/notification-service.js';
import { SqlDeliveryStore } from './features/notifications/sql-delivery-store.js';
import { SqlWebhookStore } from './features/notifications/sql-webhook-store.js';
import { WebhookChannel } from './features/notifications/webhook-channel.js';
import { ReleaseService } from './features/releases/release-service.js';
import { retentionPolicy } from './features/retention/retention-policy.js';
import { ArtifactRetention } from './features/retention/retention-service.js';
import { SqlRetentionStore } from './features/retention/retention-store.js';
import { Reverter } from './features/reverts/reverter.js';
import { SqlRevertStore } from './features/reverts/sql-revert-store.js';
import { createSecretService, type SecretService } from './features/secrets/secret-service.js';
import { SessionService } from './features/session/session-service.js';
import { type ClientApi, createClientApi } from './features/toggles/client-api/client-api.js';
import { ToggleService } from './features/toggles/toggle-service.js';
import { SignInLimiter } from './features/users/sign-in-limiter.js';
import { UserService } from './features/users/user-service.js';
import { LeaderElection } from './leader/leader-election.js';
import { createSandbox, type Sandbox } from './sandbox/host-sandbox.js';
import { allowlistedEnv } from './sandbox/sandbox.js';

/** The composition root: every service, built from one database and one config. */
export interface Gantry {
  config: ServerConfig;
  database: Database;
  logger: Logger;
  bus: EventBus;
  events: SqlEventStore;
  apps: AppService;
  commits: CommitService;
  commitStore: SqlCommitStore;
  builds: BuildService;
  artifacts: ArtifactService;
  /** Artifact garbage collection by policy (features/retention; scheduled by start-server.ts). */
  retention: ArtifactRetention;
  tokens: TokenService;
  /** Console sign-in sessions (an HttpOnly cookie exchanged once for a password or a token). */
  sessions: SessionService;
  /** People, their groups and role bindings (features/users, features/access). */
  users: UserService;
  /** Failed password sign-ins per account and address. */
  signIns: SignInLimiter;
  /** PostgreSQL: the other servers on this database (their events, toggle revisions, revocations). */
  cluster?: Cluster;
  runner: BuildRunner;
  /** Remote build agents: their tokens and labels, and the builds they take (features/agents). */
  agents: AgentService;
  /** Driver calls of environments that live on deploy agents (gantry.yaml `hosts`). */
  hostJobs: HostJobs;
  /** Step logs in the database, with several servers on PostgreSQL (none on SQLite). */
  sharedLogs: SharedBuildLogs | undefined;
  poller: CommitPoller;
  envStore: SqlEnvironmentStore;
  deploymentStore: SqlDeploymentStore;
  drivers: DriverRegistry;
  deployments: DeploymentService;
  deployer: Deployer;
  /** Protected environments: approvals bound to the artifact digest, freeze windows, break-glass. */
  approvals: ApprovalService;
  /** Post-deploy checks: runs them and acts on a failure (auto-rollback, incident). */
  verifier: Verifier;
  checkStore: SqlCheckStore;
  /** Finds and reverts the commit that failed the auto-deployed environment's checks. */
  reverter: Reverter;
  tagDeployer: TagDeployer;
  recovery: DeploymentRecovery;
  toggles: ToggleService;
  clientApi: ClientApi;
  releases: ReleaseService;
  incidents: IncidentService;
  metricsLedger: MetricsLedger;
  metrics: MetricsService;
  /** Where build steps and deploy scripts run (bubblewrap, or nothing but a scrubbed environment). */
  sandbox: Sandbox;
  /** Outbound webhooks and forge statuses: what to send where, and the log of what was sent. */
  notifications: NotificationService;
  /** Sends them from the event log (started with the other loops). */
  dispatcher: NotificationDispatcher;
  /** Where each app's commit statuses and deployments go (GitHub, GitLab, Gitea). */
  forge: ForgeService;
  /** Each app's secrets: sealed at rest, write-only, injected where gantry.yaml declares them. */
  secrets: SecretService;
  /** This server's address for links it sends out (GANTRY_PUBLIC_URL, or set once it listens). */
  site: { url?: string };
  /** Whether this server runs the work that must happen once (always, on SQLite); started by start-server. */
  leader: LeaderElection;
  /** Last time SDKs reported each toggle in an app's environment, when usage metrics are collected. */
  toggleUsage?: (appId: string, env: string) => Promise<Map<string, string> | undefined>;
  close(): Promise<void>;
}

export interface CreateGantryOptions {
  logger?: Logger;
  /** PostgreSQL schema to use (tests). */
  schema?: string;
  /** PostgreSQL: the LISTEN connection's first wait before a reconnect, and its heartbeat (tests). */
  cluster?: { retryMs?: number; heartbeatMs?: number };
}

export async function createGantry(config: ServerConfig, opts: CreateGantryOptions = {}): Promise<Gantry> {
  const logger = opts.logger ?? pino({ level: config.logLevel });
  const sandbox = await createSandbox({
    mode: config.buildsSandbox,
    hidden: [config.dataDir],
    bwrap: config.bwrapPath,
  });
  if (!sandbox.status.active) {
    logger.warn(
      { sandbox: sandbox.status },
      `no build sandbox (${sandbox.status.reason}): build steps and deploy scripts can read what the server can`,
    );
  }
  const origin = newOrigin();
  const database = await openDatabase({
    origin,
    url: config.databaseUrl,
    dataDir: config.dataDir,
    schema: opts.schema,
    onConnectionError: (err) =>
      logger.warn({ err }, 'a PostgreSQL connection was lost; the next query opens a new one'),
  });
  const { db, caps } = database;
  const bus = new EventBus();
  const events = new SqlEventStore(db, bus);
  const apps = new AppService(new SqlAppStore(db), events, config.dataDir, config.defaultPollIntervalMs);
  const secrets = await createSecretService(db, {
    key: config.secretsKey,
    keyFile: config.secretsKeyFile,
    dataDir: config.dataDir,
    apps,
    events,
    logger,
  });
  const buildStore = new SqlBuildStore(db, caps);
  const artifactStore = new SqlArtifactStore(db);
  const localBlobs = new LocalBlobStore(join(config.dataDir, 'artifacts'));
  // On PostgreSQL the servers sharing it share their artifacts through it too.
  const blobs = caps.label === 'postgres' ? new SharedBlobStore(localBlobs, db) : localBlobs;
  // With several servers on PostgreSQL, step logs are read from any of them (shared-build-logs.ts).
  const sharedLogs = caps.notifies ? new SharedBuildLogs(db, logger) : undefined;
  const builds = new BuildService(buildStore, artifactStore, apps, events, config.dataDir, sharedLogs);
  const runnerBuilds = sharedLogs
    ? withSharedStepLogs(buildStore, sharedLogs, (id, idx) => builds.logPath(id, idx))
    : buildStore;
  const commitStore = new SqlCommitStore(db);
  const commits = new CommitService(apps, commitStore, events, builds);
  // Passwords an admin names by variable (`gantry app registry --password-env`) come from here.
  const registries = new ImageRegistries(config.registry, process.env);
  const artifacts = new ArtifactService(artifactStore, blobs, events, registries);
  const tokens = new TokenService(db, events);
  const users = new UserService(db, events);
  tokens.useOwners(users);
  // A person's roles changed: cached token lookups (personal tokens) take them up at once.
  users.onChange(() => tokens.forget());
  const sessions = new SessionService(db, {
    absoluteMs: config.sessionAbsoluteMs,
    idleMs: config.sessionIdleMs,
  });
  sessions.usePeople(users);
  const runner = new BuildRunner({
    builds: runnerBuilds,
    service: builds,
    apps,
    artifacts: artifactStore,
    blobs,
    cache: new BuildCache(join(config.dataDir, 'cache')),
    events,
    logger,
    dataDir: config.dataDir,
    sandbox,
    concurrency: config.runnerConcurrency,
    staleAfterMs: config.staleAfterMs,
    maxAttempts: config.buildsMaxAttempts,
    images: new ImageBuilder({ builds: runnerBuilds, events, registries, logger }),
    secrets,
  });
  const agents = new AgentService({
    db,
    tokens,
    builds: buildStore,
    service: builds,
    apps,
    artifacts: artifactStore,
    blobs,
    events,
    logger,
    secrets,
    registries,
    staleAfterMs: config.staleAfterMs,
    ...(sharedLogs && { sharedLogs }),
  });
  builds.explainWaiting((labels) => agents.waitingReason(labels));
  const hostJobs = new HostJobs({
    db,
    logger,
    labelsOf: (p) => agents.labelsOf(p),
    blobs,
    secrets,
    staleAfterMs: config.staleAfterMs,
  });
  const poller = new CommitPoller(apps, commits, logger);
  const envStore = new SqlEnvironmentStore(db);
  const deploymentStore = new SqlDeploymentStore(db);
  const drivers = new DriverRegistry()
    .register(createProcessDriver({ baseEnv: appEnvironment(process.env) }))
    .register(createCommandDriver({ sandbox }))
    .register(createContainerDriver({ network: config.containerNetwork }))
    .onHosts(
      (inner) => new RemoteHostsDriver(inner, hostJobs, { claimTimeoutMs: config.hostClaimTimeoutMs }),
    );
  const deployments = new DeploymentService(
    deploymentStore,
    envStore,
    apps,
    artifacts,
    drivers,
    events,
    buildStore,
  );
  const approvals = createApprovals(db, {
    deployments: deploymentStore,
    service: deployments,
    apps,
    events,
    artifacts,
    logger,
  });
  deployments.useGate(approvals);
  const checkStore = new SqlCheckStore(db);
  const deployer = new Deployer({
    deployments: deploymentStore,
    envs: envStore,
    service: deployments,
    apps,
    artifacts,
    drivers,
    events,
    logger,
    dataDir: config.dataDir,
    leaseMs: config.deployLeaseMs,
    hooks: {
      started: (d) => verifier.supersede(d.appId, d.env, d.id),
      hasChecks: async (d): Promise<boolean> => (await verifier.checksOf(d)).length > 0,
      succeeded: async (d) => void (await verifier.begin(d)),
    },
    secrets,
  });
  // A host another agent takes over serves its environments' last healthy releases at once.
  hostJobs.restoreWith(
    new HostRestore({
      envs: envStore,
      apps,
      deployments: deploymentStore,
      artifacts,
      specFor: (app, env, sha, o) => deployer.specFor(app, env, sha, o),
      events,
      logger,
    }),
  );
  const tagDeployer = new TagDeployer(envStore, deployments);
  const recovery = new DeploymentRecovery(apps, deploymentStore, envStore, tagDeployer, artifacts);
  const toggles = new ToggleService(db, bus, caps.supportsSkipLocked);
  const releases = new ReleaseService(db, apps, toggles, events, logger);
  const clientApi = createClientApi(db, toggles, logger, {
    revisionPollMs: Math.max(100, config.toggleRevisionPollMs ?? 1000),
  });
  const cluster = caps.notifies
    ? await startCluster({
        url: config.databaseUrl!,
        schema: opts.schema,
        db,
        origin,
        bus,
        events,
        logger,
        revisions: (changed) => clientApi.watcher.learn(changed),
        tokens: { revokedElsewhere: (ids) => tokens.revokedElsewhere(ids), forget: () => tokens.forget() },
        phases: (id, phase) => hostJobs.phaseFromElsewhere(id, phase),
        listener: opts.cluster,
      })
    : undefined;
  if (cluster) hostJobs.relayPhases((id, phase) => cluster.announcePhase(id, phase));
  const incidents = createIncidentService(db, {
    apps,
    deployments: deploymentStore,
    environments: (app) => appEnvironmentNames({ envs: envStore, service: deployments }, app),
    events,
  });
  const verifier = new Verifier({
    deployments: deploymentStore,
    checks: checkStore,
    events,
    apps,
    environmentAt: async (app, env, sha) => environmentOf(await deployments.configAt(app, sha), env),
    access: async (app, env, sha) => {
      const { spec, driver } = await deployer.specFor(app, env, sha);
      const d = drivers.for(driver, spec);
      const traffic = d.traffic?.bind(d);
      return {
        url: `http://127.0.0.1:${spec.port}`,
        driver,
        traffic: traffic
          ? (sinceMs) =>
              traffic(
                spec,
                deployer.context(app, env, AbortSignal.timeout(10_000), () => {}),
                { sinceMs },
              )
          : undefined,
      };
    },
    rollback: (app, env, reason) =>
      deployments.rollback(app, env, 'gantry:checks', { reason, trigger: 'auto-rollback' }),
    openIncident: (r) => incidents.open(r),
    sandbox,
    dataDir: config.dataDir,
    logger,
    secrets,
  });
  const reverter = new Reverter({
    store: new SqlRevertStore(db),
    deployments: deploymentStore,
    apps,
    configAt: (app, sha) => deployments.configAt(app, sha),
    checksOf: (d) => verifier.checksOf(d),
    deploy: (r) => deployments.request({ ...r, actor: 'gantry:revert' }),
    hasArtifact: async (appId, sha) => Boolean(await artifacts.findCurrent(appId, sha)),
    build: async (app, sha) => {
      const res = await builds.request(app, sha, { reason: 'manual', actor: 'gantry:revert' });
      return res.kind === 'artifact-exists' ? null : res.build;
    },
    findBuild: (id) => builds.get(id),
    ingest: async (app) => void (await commits.ingest(app, 'manual', 'gantry:revert')),
    openIncident: (r) => incidents.open(r),
    events,
    dataDir: config.dataDir,
    logger,
  });
  verifier.onCheckFailed((f) => reverter.onCheckFailed(f));
  const metricsStore = new SqlMetricsStore(db);
  const metricsLedger = new MetricsLedger({ db, store: metricsStore, bus, logger });
  const metrics = new MetricsService({
    store: metricsStore,
    ledger: metricsLedger,
    apps,
    incidents,
    environments: (app) => appEnvironmentNames({ envs: envStore, service: deployments }, app),
  });
  const site: { url?: string } = { url: config.publicUrl };
  const leader = new LeaderElection({
    url: caps.label === 'postgres' ? config.databaseUrl : undefined,
    schema: opts.schema,
    logger,
    retryMs: config.leaderRetryMs,
  });
  const deliveryStore = new SqlDeliveryStore(db);
  const webhookStore = new SqlWebhookStore(db);
  const forgeStore = new SqlForgeStore(db);
  const dispatcher = new NotificationDispatcher({
    store: deliveryStore,
    events,
    bus,
    channels: [
      new WebhookChannel({
        webhooks: webhookStore,
        apps,
        deployments: deploymentStore,
        builds: buildStore,
        baseUrl: () => site.url,
      }),
      new ForgeChannel({
        forge: forgeStore,
        apps,
        builds: buildStore,
        deployments: deploymentStore,
        events,
        baseUrl: () => site.url,
      }),
    ],
    logger,
    backoffMs: config.webhookBackoffMs,
    concurrency: config.webhookConcurrency,
  });
  const notifications = new NotificationService({
    webhooks: webhookStore,
    deliveries: deliveryStore,
    apps,
    events,
    dispatcher,
  });
  commits.onTags((app, mirror, head, initial) => tagDeployer.scan(app, mirror, head, initial));
  builds.onPushBuildSucceeded(async (build) =>
    deployments.autoDeploy(await apps.getById(build.appId), build.sha),
  );
  // An artifact that an environment runs or ran among its last 5 deployments is never pruned.
  artifacts.addRetention(() => deploymentStore.recentArtifactIds(5));
  const retention = new ArtifactRetention({
    store: new SqlRetentionStore(db),
    deploymentStore,
    envStore,
    apps,
    reverts: new SqlRevertStore(db),
    standbyOf: async (app, env, sha) => {
      const yaml = await deployments.configAt(app, sha);
      return yaml ? (environmentOf(yaml, env)?.standby ?? 1) : null;
    },
    blobs,
    registries,
    events,
    policy: retentionPolicy({
      keepPerApp: config.artifactsKeep,
      maxAgeMs: config.artifactsMaxAgeMs,
      scheduled: config.artifactsGc,
    }),
    logger,
  });
  return {
    config,
    database,
    logger,
    bus,
    events,
    apps,
    commits,
    commitStore,
    builds,
    artifacts,
    retention,
    tokens,
    sessions,
    users,
    signIns: new SignInLimiter(db),
    cluster,
    runner,
    agents,
    hostJobs,
    sharedLogs,
    poller,
    envStore,
    deploymentStore,
    drivers,
    deployments,
    deployer,
    approvals,
    verifier,
    checkStore,
    reverter,
    tagDeployer,
    recovery,
    toggles,
    clientApi,
    releases,
    incidents,
    metricsLedger,
    metrics,
    sandbox,
    notifications,
    dispatcher,
    forge: new ForgeService({ store: forgeStore, apps, events }),
    secrets,
    site,
    leader,
    async toggleUsage(appId, env) {
      const seen = await clientApi.usage.lastSeenByToggle(appId, env);
      // Without any report from an SDK there, "not evaluated" cannot be told from "not measured".
      return seen.size ? seen : undefined;
    },
    async close() {
      await leader.stop();
      releases.stopScheduler();
      poller.stop();
      await runner.stop();
      await sharedLogs?.stop();
      reverter.stop();
      approvals.stop();
      await verifier.stop();
      await deployer.stop();
      await dispatcher.stop();
      await metricsLedger.close();
      await drivers.close();
      await clientApi.close();
      await cluster?.close();
      await database.close();
    },
  };
}

/** What deployed apps inherit from the server: the allowlist (PATH, LANG, TZ), never its settings and secrets. */
function appEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { CI: _ci, ...allowed } = allowlistedEnv(env);
  return allowed;
}
