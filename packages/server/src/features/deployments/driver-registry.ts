import type { Driver, EnvironmentSpec } from '@gantry/driver-api';

/** The drivers this server can deploy with, by name. */
export class DriverRegistry {
  private readonly drivers = new Map<string, Driver>();
  private readonly remote = new Map<string, Driver>();
  private remoteFactory?: (inner: Driver) => Driver;

  register(driver: Driver): this {
    this.drivers.set(driver.name, driver);
    return this;
  }

  /** How an environment with `hosts` runs its driver: on the hosts' deploy agents (features/agents). */
  onHosts(factory: (inner: Driver) => Driver): this {
    this.remoteFactory = factory;
    this.remote.clear();
    return this;
  }

  has(name: string): boolean {
    return this.drivers.has(name);
  }

  get(name: string): Driver {
    const d = this.drivers.get(name);
    if (!d) throw new Error(`driver "${name}" is not available; use one of ${this.names().join(', ')}`);
    return d;
  }

  /** The driver for this environment: `name`'s own, or run on its hosts' agents when it names hosts. */
  for(name: string, spec: EnvironmentSpec): Driver {
    const local = this.get(name);
    if (!spec.hosts?.length) return local;
    if (!this.remoteFactory)
      throw new Error(`environment ${spec.name} names hosts, but this server has no deploy agents set up`);
    let d = this.remote.get(name);
    if (!d) {
      d = this.remoteFactory(local);
      this.remote.set(name, d);
    }
    return d;
  }

  names(): string[] {
    return [...this.drivers.keys()];
  }

  all(): Driver[] {
    return [...this.drivers.values()];
  }

  async close(): Promise<void> {
    for (const d of this.drivers.values()) await d.close?.();
  }
}
