import type { ImageArtifact } from '@gantry/driver-api';
import { describeDriverConformance } from '@gantry/driver-api/conformance';
import { createContainerDriver } from '../../../src/drivers/container/container-driver.js';
import { containersAvailable, describeContainers } from '../../support/container-fixtures.js';
import {
  buildImage,
  cleanupContainers,
  freePort,
  releaseOf,
  served,
  trackWorkdir,
} from './container-fixtures.js';

// Each version's image is built once, on first use (the suite asks for v1, v2 and a broken v3).
const images = new Map<string, Promise<ImageArtifact>>();

if (containersAvailable) {
  describeDriverConformance('container', {
    createDriver: () => createContainerDriver({ stopTimeoutS: 5, drainTimeoutMs: 5_000 }),
    makeEnv: async (workdir) => {
      trackWorkdir(workdir);
      return {
        app: `conf${process.pid}`,
        name: 'qa',
        port: await freePort(),
        config: {},
        standby: 1,
        run: { command: '', portEnv: 'PORT', health: { path: '/healthz', timeoutMs: 10_000 } },
      };
    },
    makeRelease: async (env, version, opts) => {
      const key = `${version}/${opts?.healthy ?? true}`;
      if (!images.has(key)) images.set(key, buildImage(version, { healthy: opts?.healthy }));
      return releaseOf(env, version, await images.get(key)!);
    },
    serving: (env) => served(env.port),
    cleanup: cleanupContainers,
    timeoutMs: 90_000,
  });
} else {
  describeContainers('driver conformance: container', () => undefined);
}
