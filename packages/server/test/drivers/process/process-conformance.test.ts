import { describeDriverConformance } from '@gantry/driver-api/conformance';
import { createProcessDriver } from '../../../src/drivers/process/process-driver.js';
import { freePort, get, killEverything, makeRelease, trackWorkdir } from './process-fixtures.js';

describeDriverConformance('process', {
  createDriver: () => createProcessDriver(),
  makeEnv: async (workdir) => {
    trackWorkdir(workdir);
    return {
      app: 'shop',
      name: 'qa',
      port: await freePort(),
      config: {},
      standby: 1,
      run: {
        command: `"${process.execPath}" server.mjs`,
        portEnv: 'PORT',
        health: { path: '/healthz', timeoutMs: 3_000 },
      },
    };
  },
  makeRelease: (env, version, opts) => makeRelease(env, version, { healthy: opts?.healthy }),
  serving: async (env) => {
    const reply = await get(env.port).catch(() => null);
    return reply?.status === 200 ? (reply.body.split(' ')[0] ?? null) : null;
  },
  cleanup: killEverything,
});
