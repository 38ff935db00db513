/**
 * The deploy-driver contract. A driver puts an artifact into an environment and reports its
 * health; Gantry's deployment service is its only caller, one deployment per environment at a
 * time. A driver instance serves every environment that names it and keeps no state that it cannot
 * rebuild from its workdir (Gantry may be killed at any moment and started again).
 *
 * @example
 * const result = await driver.deploy(target, ctx); // unpacks, starts, waits healthy, switches
 * console.log(result.url); // http://127.0.0.1:7501 — the environment's stable address
 */
export interface Driver {
  readonly name: string;
  readonly capabilities: DriverCapabilities;
  /** Pure: what `deploy(target)` would do given what runs now. `--dry-run` prints it. */
  plan(input: PlanInput): DeployPlan;
  /** Makes `target` the release that serves the environment. Rejects when it never becomes healthy,
   *  and then the release that served before keeps serving. */
  deploy(target: Release, ctx: DriverContext): Promise<DeployResult>;
  /** Health of what serves the environment now. */
  health(env: EnvironmentSpec, ctx: DriverContext): Promise<HealthReport>;
  /** Stops everything of this environment (releases, standby, proxy). */
  stop(env: EnvironmentSpec, ctx: DriverContext): Promise<void>;
  /** After a (re)start of Gantry: make the environment serve `serving` again, adopting what still
   *  runs from before and stopping anything it does not know. Optional for stateless drivers. */
  restore?(env: EnvironmentSpec, serving: Release, ctx: DriverContext): Promise<DeployResult>;
  /**
   * What the environment's traffic looked like since `sinceMs` (epoch ms), per release that answered
   * it, for post-deploy `watch` checks. Optional: a driver that cannot see the traffic (the command
   * driver) leaves it out, and a watch on it says so.
   */
  traffic?(env: EnvironmentSpec, ctx: DriverContext, query: TrafficQuery): Promise<TrafficReport>;
  /** Stop background work (watchers, proxies owned by this process); leaves releases running. */
  close?(): Promise<void>;
}

export interface DriverCapabilities {
  /** Keeps the previous release running, so that a rollback to it is only a switch. */
  warmStandby: boolean;
  /** Switches traffic without failing a request in flight. */
  zeroDowntimeSwitch: boolean;
  /** Can adopt releases still running after Gantry restarts. */
  adopt: boolean;
}

/** What the environment declares in gantry.yaml, resolved (defaults applied, port allocated). */
export interface EnvironmentSpec {
  app: string;
  name: string;
  /** The stable port the environment is served on. */
  port: number;
  /** Environment variables for the app; everything else is identical across environments. */
  config: Record<string, string>;
  /**
   * The environment's declared secrets (`environments.<env>.secrets`), set like `config` after it.
   * A driver passes them to the app only, never in a command line, a log, a label or a file.
   */
  secrets?: Record<string, string>;
  /**
   * The agents (`gantry agent --labels`) the environment lives on, from gantry.yaml `hosts`; absent
   * when it lives on the Gantry server. Gantry runs the driver on each host's agent, one at a time.
   */
  hosts?: string[];
  /** How many previous releases to keep running warm (process driver; default 1). */
  standby: number;
  run?: {
    /** How the process driver starts the app. The container driver runs the image's own command. */
    command: string;
    portEnv: string;
    health: { path: string; timeoutMs: number };
    /** Resource limits (container driver): memory in bytes, CPUs as a fraction of cores. */
    limits?: { memoryBytes?: number; cpus?: number };
  };
  /** Command driver scripts. */
  commands?: { deploy?: string; health?: string; stop?: string };
}

export interface Release {
  env: EnvironmentSpec;
  sha: string;
  deploymentId: string;
  artifact: ReleaseArtifact;
}

/** A tar.gz on this machine, or an OCI image in a registry; `digest` identifies either. */
export type ReleaseArtifact = TarballArtifact | ImageArtifact;

export interface TarballArtifact {
  kind?: 'tarball';
  /** The .tar.gz file on this machine. */
  path: string;
  /** sha256 of the tarball. */
  digest: string;
}

export interface ImageArtifact {
  kind: 'image';
  /** Always by digest: `<registry>/<repository>@sha256:…`, never a tag. */
  reference: string;
  /** The image manifest's sha256, as the registry reports it. */
  digest: string;
  /** Pull settings for the registry: skip TLS verification only when the registry is marked insecure. */
  registry?: { insecure?: boolean; auth?: { username: string; password: string } };
}

/** The tarball of a release, or an error naming the driver that cannot run an image. */
export function tarballOf(release: Release, driver: string): TarballArtifact {
  const a = release.artifact;
  if (a.kind === 'image') {
    throw new Error(
      `the ${driver} driver runs tar.gz artifacts, but ${release.sha.slice(0, 12)} was built as an image (${a.reference}); use driver: container for image artifacts`,
    );
  }
  return a;
}

export interface RunningRelease {
  sha: string;
  digest: string;
  /** Serving traffic, warm standby, or stopped but kept on disk. */
  state: 'serving' | 'standby' | 'stopped';
}

export interface PlanInput {
  env: EnvironmentSpec;
  target: { sha: string; digest: string };
  releases: RunningRelease[];
}

export interface DeployPlan {
  /** e.g. 'switch' when the target is a warm standby; 'start' when it must boot first. */
  kind: 'noop' | 'switch' | 'start';
  steps: string[];
}

export interface DeployResult {
  url: string;
  /** What kind of deployment it turned out to be. */
  kind: DeployPlan['kind'];
}

export interface HealthReport {
  healthy: boolean;
  sha: string | null;
  detail?: string;
}

export type DeployPhase = 'unpack' | 'start' | 'health' | 'switch' | 'drain' | 'cleanup';

export interface DriverLogger {
  info(msg: string, data?: Record<string, unknown>): void;
  warn(msg: string, data?: Record<string, unknown>): void;
  error(msg: string, data?: Record<string, unknown>): void;
}

export interface DriverContext {
  logger: DriverLogger;
  signal: AbortSignal;
  /** A folder the driver owns for this app and environment (releases, pid files, state). */
  workdir: string;
  /** Called as each phase starts; Gantry records phase durations from these calls. */
  phase(name: DeployPhase): void;
  /** Things that happen outside a deployment (a crash and its restart) for the event log. */
  report(event: DriverEvent): void;
  /**
   * The environment's fencing token while Gantry holds its slot (it grows at every claim and every
   * takeover by another server). A driver passes it to what it switches, which refuses a lower one
   * than it has seen: a server that was paused past its lease cannot switch the environment back.
   * Command scripts get it as GANTRY_FENCE. Absent outside a deployment or a restore.
   */
  fence?: number;
}

export type DriverEvent =
  | { type: 'crashed'; sha: string; exitCode: number | null; signal: string | null; restartInMs: number }
  | { type: 'restarted'; sha: string }
  | { type: 'gave-up'; sha: string; crashes: number };

export interface TrafficQuery {
  /** Epoch milliseconds: only requests that finished at or after this count (see TrafficReport.sinceMs). */
  sinceMs: number;
}

/** Requests the environment answered, per release (SHA) that answered them. */
export interface TrafficReport {
  /** Where the count starts: the query's `sinceMs`, or a little before it when the driver counts in
   *  coarser steps (the process and container drivers' proxy counts whole seconds: the start of the
   *  second that holds the query's `sinceMs`). */
  sinceMs: number;
  /** How far back the driver still remembers (it keeps a bounded window, and a proxy knows nothing from
   *  before it started); `sinceMs` may be earlier, and then the report covers less than was asked. */
  coveredFromMs: number;
  /** Oldest first: in the order of each release's first request counted. */
  releases: TrafficSample[];
}

export interface TrafficSample {
  sha: string;
  requests: number;
  /** Answers with a 5xx status, or none from the release (it refused or reset the connection: the
   *  client got a 502, or an answer cut off). A client that gave up first is counted, not as an error. */
  errors: number;
  /** 95th percentile of the time to the answer's headers (or until the client gave up), in
   *  milliseconds (the proxy estimates it to within 19%); null without requests. */
  p95Ms: number | null;
}
