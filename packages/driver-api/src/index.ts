/**
 * The deploy-driver contract. A driver puts an artifact into an environment and reports its
 * health; Gantry's deployment service is the only caller. Issue 3 adds the drivers themselves
 * (`process`, `command`) and the conformance suite every driver must pass.
 *
 * @example
 * const noop: Driver = {
 *   name: 'noop',
 *   capabilities: { warmStandby: false, zeroDowntimeSwitch: false },
 *   plan: (current, target) => ({ steps: [`replace ${current?.sha ?? 'nothing'} with ${target.sha}`] }),
 *   deploy: async () => ({ url: 'http://127.0.0.1:0' }),
 *   health: async () => ({ healthy: true }),
 *   stop: async () => {},
 * };
 */
export interface Driver {
  readonly name: string;
  readonly capabilities: DriverCapabilities;
  /** Pure: what `deploy` would do, for `--dry-run`. */
  plan(current: Release | null, target: Release): DeployPlan;
  deploy(target: Release, ctx: DriverContext): Promise<{ url: string }>;
  health(release: Release, ctx: DriverContext): Promise<{ healthy: boolean; detail?: string }>;
  stop(release: Release, ctx: DriverContext): Promise<void>;
}

export interface DriverCapabilities {
  /** Keeps the previous release running so that a rollback is only a switch. */
  warmStandby: boolean;
  /** Switches traffic without failing in-flight requests. */
  zeroDowntimeSwitch: boolean;
}

export interface Release {
  app: string;
  env: string;
  sha: string;
  artifact: { path: string; digest: string };
  config: Record<string, string>;
}

export interface DeployPlan {
  steps: string[];
}

export interface DriverLogger {
  info(msg: string, data?: Record<string, unknown>): void;
  warn(msg: string, data?: Record<string, unknown>): void;
  error(msg: string, data?: Record<string, unknown>): void;
}

export interface DriverContext {
  logger: DriverLogger;
  signal: AbortSignal;
  /** A folder the driver owns for this environment (releases, state). */
  workdir: string;
}
