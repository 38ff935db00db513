import type { Driver } from '@gantry/driver-api';

/** The drivers this server can deploy with, by name. */
export class DriverRegistry {
  private readonly drivers = new Map<string, Driver>();

  register(driver: Driver): this {
    this.drivers.set(driver.name, driver);
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
