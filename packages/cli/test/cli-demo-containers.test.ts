import { request } from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  baseImages,
  describeContainers,
  dockerSocket,
  registry,
} from '../../server/test/support/container-fixtures.js';
import { type CliSandbox, makeCliSandbox } from './support/run-cli.js';

// Apart from cli-demo.test.ts so that the two demos run side by side.
let cli: CliSandbox;

beforeAll(async () => {
  cli = await makeCliSandbox();
});

afterAll(async () => {
  await cli?.cleanup();
});

describeContainers('gantry demo --containers', () => {
  it('takes an image from build to qa, staging and production by tags and rolls production back from the warm standby', async () => {
    // Containers made before this demo started (another run's, killed midway) are not its own.
    const startedSec = Math.floor(Date.now() / 1000) - 1;
    const res = await cli.run(
      ['demo', '--containers', '--registry', `${registry}/cli-demo`, '--base-image', baseImages.node],
      { timeoutMs: 170_000 },
    );
    expect(res.stderr).not.toContain('error:');
    expect(res.code).toBe(0);
    // Every build made an image, pushed by digest to the registry given.
    const images = [...res.stdout.matchAll(/image (\S+@sha256:[0-9a-f]{64})/g)].map((m) => m[1]!);
    expect(images.length).toBeGreaterThanOrEqual(3);
    for (const ref of images) expect(ref.startsWith(`${registry}/cli-demo/hello@sha256:`)).toBe(true);
    // The same image went on by tags; the broken one never left QA; production went back by a switch.
    expect(res.stdout).toMatch(/tag push → staging serves 1\.0\.2/);
    expect(res.stdout).toMatch(/tag push → production serves 1\.0\.2/);
    expect(res.stdout).toMatch(
      /QA refused it:\n {2}container gantry-hello-qa-\S+ of \S+ did not answer \/healthz/,
    );
    expect(res.stdout).toMatch(/production answers 1\.0\.1 .* \(.*a switch to the warm standby\)/);
    // Nothing of the demo keeps running in the engine.
    const left = (await engineContainers()).filter(
      (c) => c.Image.startsWith(`${registry}/cli-demo/`) && c.Created >= startedSec,
    );
    expect(left.map((c) => c.Names)).toEqual([]);
  });

  it('says how to get an engine when none answers, before it makes anything', async () => {
    const res = await cli.run(['demo', '--containers', '--registry', registry], {
      env: { DOCKER_HOST: 'unix:///nonexistent/engine.sock' },
      timeoutMs: 30_000,
    });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('no container engine answers (unix:///nonexistent/engine.sock');
    expect(res.stderr).toContain('scripts/containers/setup.sh');
    expect(res.stdout).not.toContain('Sample app');
  });

  it('asks for a registry when none is given', async () => {
    const res = await cli.run(['demo', '--containers'], { timeoutMs: 30_000 });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('needs a registry to push the sample app');
    expect(res.stdout).not.toContain('Sample app');
  });
});

/** Every container the engine has, running or not (Docker Engine API over its unix socket). */
function engineContainers(): Promise<{ Names: string[]; Image: string; Created: number }[]> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: dockerSocket, path: '/v1.41/containers/json?all=1' }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString();
      });
      res.on('end', () => resolve(JSON.parse(body)));
    });
    req.on('error', reject);
    req.end();
  });
}
