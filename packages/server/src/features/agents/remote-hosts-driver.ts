import type {
  DeployPlan,
  DeployResult,
  Driver,
  DriverContext,
  EnvironmentSpec,
  HealthReport,
  PlanInput,
  Release,
  TrafficQuery,
  TrafficReport,
  TrafficSample,
} from '@gantry/driver-api';
import type { HostJobPayload, HostJobs, RemoteArtifact } from './host-jobs.js';

/** What an agent answers to a deploy: the driver's result, its address, and what served before. */
export interface HostDeployResult extends DeployResult {
  previous: { sha: string; artifact: RemoteArtifact } | null;
}

export interface RemoteHostsOptions {
  /** How long a job may wait for its host's agent to take it (default 30 s). */
  claimTimeoutMs?: number;
  /** How long a health, stop or traffic call may take on a host (default 15 s). */
  quickTimeoutMs?: number;
}

/**
 * `inner`'s driver run on the agents of an environment's `hosts`, one host at a time: each host
 * deploys the release with its own warm standby, and when one host fails, the hosts before it are
 * switched back to what they served, so the environment is left as it was (the driver contract).
 * Health is that of every host; traffic is summed over them. No `restore`: what runs on an agent's
 * machine keeps running while Gantry restarts, and the agent's driver finds it from its workdir.
 */
export class RemoteHostsDriver implements Driver {
  readonly name: string;
  readonly capabilities: Driver['capabilities'];
  private readonly claimTimeoutMs: number;
  private readonly quickTimeoutMs: number;

  constructor(
    private readonly inner: Driver,
    private readonly jobs: HostJobs,
    o: RemoteHostsOptions = {},
  ) {
    this.name = inner.name;
    this.capabilities = inner.capabilities;
    this.claimTimeoutMs = o.claimTimeoutMs ?? 30_000;
    this.quickTimeoutMs = o.quickTimeoutMs ?? 15_000;
  }

  plan(input: PlanInput): DeployPlan {
    return this.inner.plan(input);
  }

  async deploy(target: Release, ctx: DriverContext): Promise<DeployResult> {
    const hosts = hostsOf(target.env);
    const release = { sha: target.sha, deploymentId: target.deploymentId, artifact: remote(target) };
    const done: { host: string; result: HostDeployResult }[] = [];
    for (const [i, host] of hosts.entries()) {
      ctx.logger.info(`host ${host} (${i + 1} of ${hosts.length}): deploying ${target.sha.slice(0, 12)}`);
      try {
        const result = await this.call<HostDeployResult>(host, 'deploy', ctx, {
          driver: this.name,
          spec: target.env,
          release,
          ...(ctx.fence !== undefined && { fence: ctx.fence }),
        });
        ctx.logger.info(`host ${host}: serving ${target.sha.slice(0, 12)} at ${result.url} (${result.kind})`);
        done.push({ host, result });
      } catch (e) {
        const why = `host ${host}: ${(e as Error).message}`;
        const back = await this.switchBack(target, done, ctx);
        throw new Error(back ? `${why}; ${back}` : why);
      }
    }
    const kinds = new Set(done.map((d) => d.result.kind));
    return {
      url: done[0]!.result.url,
      kind: kinds.has('start') ? 'start' : kinds.has('switch') ? 'switch' : 'noop',
    };
  }

  /** The hosts that took the new release serve what they served before again, newest first. */
  private async switchBack(
    target: Release,
    done: { host: string; result: HostDeployResult }[],
    ctx: DriverContext,
  ): Promise<string | null> {
    if (done.length === 0) return null;
    const said: string[] = [];
    for (const { host, result } of [...done].reverse()) {
      const prev = result.previous;
      if (!prev) {
        await this.call(host, 'stop', ctx, { driver: this.name, spec: target.env }).catch(() => undefined);
        said.push(`${host} stopped (it served nothing before)`);
        continue;
      }
      try {
        await this.call(host, 'deploy', ctx, {
          driver: this.name,
          spec: target.env,
          release: { sha: prev.sha, deploymentId: target.deploymentId, artifact: prev.artifact },
          ...(ctx.fence !== undefined && { fence: ctx.fence }),
        });
        said.push(`${host} switched back to ${prev.sha.slice(0, 12)}`);
      } catch (e) {
        said.push(`${host} could not switch back to ${prev.sha.slice(0, 12)}: ${(e as Error).message}`);
      }
    }
    return said.join(', ');
  }

  async health(env: EnvironmentSpec, ctx: DriverContext): Promise<HealthReport> {
    const hosts = hostsOf(env);
    const reports = await Promise.all(
      hosts.map((host) =>
        this.call<HealthReport>(
          host,
          'health',
          ctx,
          { driver: this.name, spec: env },
          this.quickTimeoutMs,
        ).catch((e: unknown): HealthReport => ({ healthy: false, sha: null, detail: (e as Error).message })),
      ),
    );
    const shas = new Set(reports.map((r) => r.sha));
    const sick = reports
      .map((r, i) => (r.healthy ? null : `${hosts[i]}: ${r.detail ?? 'unhealthy'}`))
      .filter((x) => x !== null);
    if (shas.size > 1)
      sick.push(
        `hosts serve different releases (${reports.map((r, i) => `${hosts[i]} ${r.sha?.slice(0, 12) ?? 'nothing'}`).join(', ')})`,
      );
    return {
      healthy: sick.length === 0,
      sha: reports[0]?.sha ?? null,
      ...(sick.length > 0 && { detail: sick.join('; ') }),
    };
  }

  async stop(env: EnvironmentSpec, ctx: DriverContext): Promise<void> {
    await Promise.all(
      hostsOf(env).map((host) => this.call(host, 'stop', ctx, { driver: this.name, spec: env })),
    );
  }

  async traffic(env: EnvironmentSpec, ctx: DriverContext, query: TrafficQuery): Promise<TrafficReport> {
    const reports = await Promise.all(
      hostsOf(env).map((host) =>
        this.call<TrafficReport>(
          host,
          'traffic',
          ctx,
          { driver: this.name, spec: env, sinceMs: query.sinceMs },
          this.quickTimeoutMs,
        ),
      ),
    );
    const bySha = new Map<string, TrafficSample>();
    for (const r of reports) {
      for (const s of r.releases) {
        const had = bySha.get(s.sha);
        bySha.set(
          s.sha,
          had
            ? {
                sha: s.sha,
                requests: had.requests + s.requests,
                errors: had.errors + s.errors,
                // The worst host's p95 stands for all: a bound, never an underestimate.
                p95Ms:
                  had.p95Ms === null ? s.p95Ms : s.p95Ms === null ? had.p95Ms : Math.max(had.p95Ms, s.p95Ms),
              }
            : { ...s },
        );
      }
    }
    return {
      sinceMs: Math.min(...reports.map((r) => r.sinceMs)),
      coveredFromMs: Math.max(...reports.map((r) => r.coveredFromMs)),
      releases: [...bySha.values()],
    };
  }

  private call<T = unknown>(
    host: string,
    kind: 'deploy' | 'health' | 'stop' | 'traffic',
    ctx: DriverContext,
    payload: HostJobPayload,
    runTimeoutMs?: number,
  ): Promise<T> {
    const health = payload.spec.run?.health.timeoutMs ?? 30_000;
    return this.jobs.run<T>(host, kind, payload, {
      claimTimeoutMs:
        runTimeoutMs === undefined ? this.claimTimeoutMs : Math.min(this.claimTimeoutMs, runTimeoutMs),
      // A deploy may download the artifact, start the release and wait for its health.
      runTimeoutMs: runTimeoutMs ?? health + 120_000,
      onPhase: (p) => ctx.phase(p as Parameters<DriverContext['phase']>[0]),
      signal: ctx.signal,
    });
  }
}

function hostsOf(env: EnvironmentSpec): string[] {
  if (!env.hosts?.length) throw new Error(`environment ${env.name} names no hosts`);
  return env.hosts;
}

function remote(release: Release): RemoteArtifact {
  const a = release.artifact;
  return a.kind === 'image' ? a : { kind: 'tarball', digest: a.digest };
}
