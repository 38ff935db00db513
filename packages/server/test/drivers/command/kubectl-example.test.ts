import { randomBytes } from 'node:crypto';
import { chmod, cp, mkdir, mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseGantryYaml } from '@gantry/contracts';
import type { DriverContext, EnvironmentSpec, Release } from '@gantry/driver-api';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCommandDriver } from '../../../src/drivers/command/command-driver.js';
import { toEnvironmentSpec } from '../../../src/features/environments/environment-specs.js';
import { createSandbox, type Sandbox } from '../../../src/sandbox/host-sandbox.js';
import { sandboxModes } from '../../support/sandbox-fixtures.js';

/**
 * examples/kubernetes: the command driver deploying an image by digest with kubectl. No Kubernetes
 * API server can run here, so a stand-in `kubectl` first on PATH records every call and answers
 * for one Deployment as kubectl would; the driver, the example's gantry.yaml and its scripts are
 * the real ones.
 */

const EXAMPLE = resolve(import.meta.dirname, '../../../../../examples/kubernetes');
const REGISTRY = 'registry.example.com/shop';
const PLACEHOLDER = `${REGISTRY}@sha256:${'0'.repeat(64)}`;
const GOOD = 'a'.repeat(40);
const BAD = 'b'.repeat(40);
const NEXT = 'c'.repeat(40);
const digestOf = (sha: string) => `sha256:${sha.slice(0, 1).repeat(64)}`;
const imageOf = (sha: string) => `${REGISTRY}@${digestOf(sha)}`;

/** The stand-in: state in files beside it (one Deployment, shop), every argv line in `calls`. */
const STAND_IN_KUBECTL = `#!/bin/sh
dir=$(dirname "$0")
echo "kubectl $*" >> "$dir/calls"
if [ "$1" != --namespace ] || [ "$2" != "$(cat "$dir/namespace")" ]; then
  echo 'Error from server (NotFound): deployments.apps "shop" not found' >&2
  exit 1
fi
shift 2
image=$(cat "$dir/image")
replicas=$(cat "$dir/replicas")
case "$*" in
  'get deployment/shop -o jsonpath={.spec.replicas} {.spec.template.spec.containers[?(@.name=="shop")].image}')
    printf '%s %s' "$replicas" "$image" ;;
  'set image deployment/shop shop='*)
    new=\${4#shop=}
    if [ "$new" != "$image" ]; then echo "$image" >> "$dir/history"; echo "$new" > "$dir/image"; fi
    echo 'deployment.apps/shop image updated' ;;
  'scale deployment/shop --replicas='*)
    echo "\${3#--replicas=}" > "$dir/replicas"
    echo 'deployment.apps/shop scaled' ;;
  'rollout status deployment/shop --timeout='*)
    if grep -qxF "$image" "$dir/failing"; then
      echo "Waiting for deployment \\"shop\\" rollout to finish: 0 of $replicas updated replicas are available..."
      echo 'error: timed out waiting for the condition' >&2
      exit 1
    fi
    echo 'deployment "shop" successfully rolled out' ;;
  'rollout undo deployment/shop')
    tail -n 1 "$dir/history" > "$dir/image"
    sed -i '$d' "$dir/history"
    echo 'deployment.apps/shop rolled back' ;;
  *)
    echo "error: the stand-in kubectl does not answer: $*" >&2
    exit 1 ;;
esac
`;

const K = 'kubectl --namespace shop-qa';
const GET = `${K} get deployment/shop -o jsonpath={.spec.replicas} {.spec.template.spec.containers[?(@.name=="shop")].image}`;
const ROLLOUT = `${K} rollout status deployment/shop --timeout=2m`;
/** One passing run of k8s-health.sh. */
const HEALTH = [`${K} rollout status deployment/shop --timeout=10s`, GET];

const savedPath = process.env.PATH;
let root = '';
let dataDir = '';

beforeAll(async () => {
  root = await realpath(await mkdtemp(join(tmpdir(), 'gantry-kubectl-example-')));
  dataDir = join(root, 'data');
  await mkdir(dataDir);
});

afterEach(() => {
  process.env.PATH = savedPath;
});

afterAll(() => rm(root, { recursive: true, force: true }));

describe.each(sandboxModes)('examples/kubernetes through the command driver (sandbox %s)', (mode) => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await createSandbox({ mode, hidden: [dataDir] });
  });

  interface Cluster {
    env: EnvironmentSpec;
    ctx: DriverContext;
    /** The kubectl calls since the last `calls()`, one argv line each. */
    calls(): Promise<string[]>;
    image(): Promise<string>;
    release(sha: string, reference?: string): Release;
  }

  /**
   * An environment as the server makes it from the example's gantry.yaml, with the example's
   * scripts copied into its workdir (`deploy: ./deploy/k8s-deploy.sh` is relative to it). The
   * stand-in lives in the workdir too: inside bubblewrap /tmp is private and only the workdir and
   * the toolchain are visible, as a real kubectl would be in /usr/local/bin.
   */
  async function cluster(failing: string[] = []): Promise<Cluster> {
    const workdir = join(dataDir, 'envs', 'shop', `qa-${randomBytes(3).toString('hex')}`);
    await cp(join(EXAMPLE, 'deploy'), join(workdir, 'deploy'), { recursive: true });
    const bin = join(workdir, '.kubectl-stand-in');
    await mkdir(bin, { recursive: true });
    await writeFile(join(bin, 'kubectl'), STAND_IN_KUBECTL);
    await chmod(join(bin, 'kubectl'), 0o755);
    // As manifests/app.yaml creates it: no replicas, a placeholder image.
    await writeFile(join(bin, 'namespace'), 'shop-qa\n');
    await writeFile(join(bin, 'image'), `${PLACEHOLDER}\n`);
    await writeFile(join(bin, 'replicas'), '0\n');
    await writeFile(join(bin, 'history'), '');
    await writeFile(join(bin, 'failing'), failing.map((line) => `${line}\n`).join(''));
    await writeFile(join(bin, 'calls'), '');
    // PATH is one of the variables a script inherits from the server: the stand-in goes first.
    process.env.PATH = `${bin}:${savedPath}`;

    const { config, errors } = parseGantryYaml(await readFile(join(EXAMPLE, 'gantry.yaml'), 'utf8'));
    expect(errors).toEqual([]);
    const qa = config!.environments!.qa!;
    expect(qa.driver).toBe('command');
    const env = toEnvironmentSpec('shop', 'qa', qa, config!, 7690);
    const log = () => undefined;
    const ctx: DriverContext = {
      logger: { info: log, warn: log, error: log },
      signal: new AbortController().signal,
      workdir,
      phase: log,
      report: log,
    };
    return {
      env,
      ctx,
      async calls() {
        const text = await readFile(join(bin, 'calls'), 'utf8');
        await writeFile(join(bin, 'calls'), '');
        return text.split('\n').filter(Boolean);
      },
      image: async () => (await readFile(join(bin, 'image'), 'utf8')).trim(),
      release: (sha, reference = imageOf(sha)) => ({
        env,
        sha,
        deploymentId: `dep_${sha.slice(0, 7)}`,
        artifact: { kind: 'image', reference, digest: digestOf(sha) },
      }),
    };
  }

  const driverFor = () => createCommandDriver({ pollIntervalMs: 50, sandbox });

  it('sets the image by digest in the namespace, waits for the rollout, checks health, scales to 0 on stop', async () => {
    const c = await cluster();
    const driver = driverFor();

    await expect(driver.deploy(c.release(GOOD), c.ctx)).resolves.toMatchObject({ kind: 'start' });
    expect(await c.calls()).toEqual([
      GET,
      `${K} set image deployment/shop shop=${imageOf(GOOD)}`,
      `${K} scale deployment/shop --replicas=1`, // it was at 0, as the manifest creates it
      ROLLOUT,
      ...HEALTH,
    ]);
    expect(await c.image()).toBe(`${REGISTRY}@sha256:${'a'.repeat(64)}`);

    await expect(driver.deploy(c.release(NEXT), c.ctx)).resolves.toMatchObject({ kind: 'start' });
    expect(await c.calls()).toEqual([
      GET,
      `${K} set image deployment/shop shop=${imageOf(NEXT)}`,
      ROLLOUT,
      ...HEALTH,
    ]);

    await expect(driver.health(c.env, c.ctx)).resolves.toMatchObject({ healthy: true, sha: NEXT });
    expect(await c.calls()).toEqual(HEALTH);

    await driver.stop(c.env, c.ctx);
    expect(await c.calls()).toEqual([`${K} scale deployment/shop --replicas=0`]);
    const stopped = await driver.health(c.env, c.ctx);
    expect(stopped.healthy).toBe(false);
    expect(stopped.detail).toContain(
      'deployment/shop in namespace shop-qa is scaled to 0 replicas (stopped)',
    );
    expect(await c.calls()).toEqual(HEALTH);
  });

  it('undoes a rollout that does not finish, fails with the reason, and the previous release serves again', async () => {
    const c = await cluster([imageOf(BAD)]);
    const driver = driverFor();
    await driver.deploy(c.release(GOOD), c.ctx);
    await c.calls();

    const failed = driver.deploy(c.release(BAD), c.ctx);
    await expect(failed).rejects.toThrow(
      `the rollout of release ${BAD} (${imageOf(BAD)}) did not finish within 2m in deployment/shop in namespace shop-qa; kubectl rollout undo brought back ${imageOf(GOOD)}, which serves`,
    );
    await expect(failed).rejects.toThrow(/^the deploy script exited with code 1; its last lines:/);
    await expect(failed).rejects.toThrow(`The previous release ${GOOD} was deployed again and serves.`);
    expect(await c.calls()).toEqual([
      // k8s-deploy.sh with the bad release: the rollout times out, is undone and waited for.
      GET,
      `${K} set image deployment/shop shop=${imageOf(BAD)}`,
      ROLLOUT,
      `${K} rollout undo deployment/shop`,
      ROLLOUT,
      // The driver deploys the release that served before again: nothing changes, it is healthy.
      GET,
      `${K} set image deployment/shop shop=${imageOf(GOOD)}`,
      ROLLOUT,
      ...HEALTH,
    ]);
    expect(await c.image()).toBe(imageOf(GOOD));
    await expect(driver.health(c.env, c.ctx)).resolves.toMatchObject({ healthy: true, sha: GOOD });
  });

  it('refuses an image reference that is only a tag, before running kubectl', async () => {
    const c = await cluster();
    const deploying = createCommandDriver({ sandbox }).deploy(c.release(GOOD, `${REGISTRY}:1.4`), c.ctx);
    await expect(deploying).rejects.toThrow(
      `k8s-deploy.sh: GANTRY_IMAGE="${REGISTRY}:1.4" is not pinned by digest (<registry>/<repository>@sha256:<64 hex digits>); refusing to deploy a tag, which can point at another image tomorrow`,
    );
    expect(await c.calls()).toEqual([]);
    expect(await c.image()).toBe(PLACEHOLDER);
  });
});
