// A Gantry server's life in a child process, so that a test can SIGKILL it for real: deploys the
// releases given as JSON with the container driver, one after another, then idles until killed.
import type { DriverContext, Release } from '@gantry/driver-api';
import { createContainerDriver } from '../../../src/drivers/container/container-driver.js';

const { workdir, releases } = JSON.parse(process.argv[2] ?? '{}') as { workdir: string; releases: Release[] };
const ctx: DriverContext = {
  workdir,
  signal: new AbortController().signal,
  logger: { info: () => {}, warn: () => {}, error: () => {} },
  phase: (name) => process.stdout.write(`phase ${name}\n`),
  report: () => {},
};
const driver = createContainerDriver({ stopTimeoutS: 3, drainTimeoutMs: 3_000 });
for (const release of releases) {
  await driver.deploy(release, ctx).then(
    () => process.stdout.write(`deployed ${release.sha}\n`),
    (err: Error) => process.stdout.write(`failed ${release.sha}: ${err.message}\n`),
  );
}
setInterval(() => {}, 1 << 30);
