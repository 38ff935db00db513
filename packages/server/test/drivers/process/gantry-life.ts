// A Gantry server's life in a child process, so that a test can SIGKILL it for real: deploys the
// releases given as JSON, one after another, then idles until it is killed.
import type { DriverContext, Release } from '@gantry/driver-api';
import { createProcessDriver } from '../../../src/drivers/process/process-driver.js';

const { workdir, releases } = JSON.parse(process.argv[2] ?? '{}') as { workdir: string; releases: Release[] };
const ctx: DriverContext = {
  workdir,
  signal: new AbortController().signal,
  logger: { info: () => {}, warn: () => {}, error: () => {} },
  phase: (name) => process.stdout.write(`phase ${name}\n`),
  report: () => {},
};
const driver = createProcessDriver();
for (const release of releases) {
  await driver.deploy(release, ctx);
  process.stdout.write(`deployed ${release.sha}\n`);
}
setInterval(() => {}, 1 << 30);
