// The driver conformance suite: test tooling, kept out of @gantry/driver-api's runtime sources and
// dependencies (it imports vitest, which only the workspace's dev dependencies provide). Drivers'
// tests load it as '@gantry/driver-api/conformance'.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  DeployPhase,
  DeployPlan,
  DeployResult,
  Driver,
  DriverContext,
  DriverEvent,
  EnvironmentSpec,
  PlanInput,
  Release,
} from '../src/driver.js';

/**
 * What a driver's test provides so that the conformance suite can deploy a real app with it.
 *
 * @example
 * const fixture: ConformanceFixture = {
 *   createDriver: () => createCommandDriver(),
 *   makeEnv: async (workdir) => ({ app: 'shop', name: 'qa', port: await freePort(), config: {}, standby: 1 }),
 *   makeRelease: (env, version, opts) => buildSampleRelease(env, version, opts),
 *   serving: (env) => fetch(`http://127.0.0.1:${env.port}/`).then((r) => r.text(), () => null),
 *   cleanup: () => killEverythingStarted(),
 * };
 */
export interface ConformanceFixture {
  createDriver(): Driver;
  /** An environment for the suite; `workdir` is the folder the suite passes as `ctx.workdir`. */
  makeEnv(workdir: string): Promise<EnvironmentSpec>;
  /** A release of a small app whose artifact really holds `version`; distinct versions, distinct SHAs.
   *  With `healthy: false` the app starts but never passes its health check. */
  makeRelease(env: EnvironmentSpec, version: string, opts?: { healthy?: boolean }): Promise<Release>;
  /** Asks the environment itself which version serves (for an HTTP app: GET its URL); null when none. */
  serving(env: EnvironmentSpec): Promise<string | null>;
  /** Stops whatever the fixture or the driver left running and removes what the fixture created. */
  cleanup(): Promise<void>;
  /** Timeout of each scenario that deploys; default 60 s. */
  timeoutMs?: number;
}

/** Every phase name a driver may report, checked against `DeployPhase` by the compiler. */
const KNOWN_PHASES = Object.keys({
  unpack: true,
  start: true,
  health: true,
  switch: true,
  drain: true,
  cleanup: true,
} satisfies Record<DeployPhase, true>);
const PLAN_KINDS: DeployPlan['kind'][] = ['noop', 'switch', 'start'];
const SHA_A = 'a'.repeat(40);
const SHA_B = 'b'.repeat(40);

interface RecordingContext extends DriverContext {
  phases: string[];
  events: DriverEvent[];
}

/**
 * Registers the vitest scenarios every driver must pass: declared capabilities, a pure plan,
 * deploy, a release that never gets healthy, rollback, abort and stop — against a real app.
 * The scenarios run in order on one environment.
 *
 * @example
 * // packages/server/test/drivers/command/command-conformance.test.ts
 * import { describeDriverConformance } from '@gantry/driver-api/conformance';
 * describeDriverConformance('command', commandFixture);
 */
export function describeDriverConformance(name: string, fixture: ConformanceFixture): void {
  const timeout = fixture.timeoutMs ?? 60_000;

  describe(`driver conformance: ${name}`, () => {
    let root = '';
    let driver: Driver;
    let env: EnvironmentSpec;
    let v1: Release;
    let v2: Release;
    let broken: Release;

    const context = (signal: AbortSignal = new AbortController().signal): RecordingContext => {
      const phases: string[] = [];
      const events: DriverEvent[] = [];
      const log = () => undefined;
      return {
        logger: { info: log, warn: log, error: log },
        signal,
        workdir: root,
        phase: (phase) => void phases.push(phase),
        report: (event) => void events.push(event),
        phases,
        events,
      };
    };

    const expectServing = async (release: Release, version: string): Promise<void> => {
      expect(await fixture.serving(env)).toBe(version);
      const health = await driver.health(env, context());
      expect(health.healthy).toBe(true);
      expect(health.sha).toBe(release.sha);
    };

    const deployAndCheckPhases = async (release: Release): Promise<DeployResult> => {
      const ctx = context();
      const result = await driver.deploy(release, ctx);
      expect(typeof result.url).toBe('string');
      expect(PLAN_KINDS).toContain(result.kind);
      if (result.kind !== 'noop') expect(ctx.phases.length).toBeGreaterThan(0);
      for (const phase of ctx.phases) expect(KNOWN_PHASES).toContain(phase);
      return result;
    };

    beforeAll(async () => {
      root = await mkdtemp(join(tmpdir(), 'gantry-conformance-'));
      driver = fixture.createDriver();
      env = await fixture.makeEnv(root);
      v1 = await fixture.makeRelease(env, 'v1');
      v2 = await fixture.makeRelease(env, 'v2');
      broken = await fixture.makeRelease(env, 'v3', { healthy: false });
      if (new Set([v1.sha, v2.sha, broken.sha]).size !== 3) {
        throw new Error('the fixture made releases of different versions with the same SHA');
      }
    }, timeout);

    afterAll(async () => {
      try {
        if (driver && env) await driver.stop(env, context()).catch(() => undefined);
        await driver?.close?.();
      } finally {
        await fixture.cleanup();
        if (root) await rm(root, { recursive: true, force: true });
      }
    }, timeout);

    it('declares a name and each capability as a boolean', () => {
      expect(typeof driver.name).toBe('string');
      expect(driver.name.length).toBeGreaterThan(0);
      for (const key of ['warmStandby', 'zeroDowntimeSwitch', 'adopt'] as const) {
        expect(typeof driver.capabilities[key], key).toBe('boolean');
      }
    });

    it('plans purely: the same input gives a deep-equal plan and is not mutated', () => {
      const input: PlanInput = {
        env,
        target: { sha: SHA_B, digest: `sha256:${'b'.repeat(64)}` },
        releases: [{ sha: SHA_A, digest: `sha256:${'a'.repeat(64)}`, state: 'serving' }],
      };
      const before = structuredClone(input);
      const first = driver.plan(deepFreeze(structuredClone(input)));
      const second = driver.plan(input);
      expect(second).toEqual(first);
      expect(input).toEqual(before);
      expect(first.kind).not.toBe('noop');
      expect(PLAN_KINDS).toContain(first.kind);
      expect(first.steps.length).toBeGreaterThan(0);
      for (const step of first.steps) expect(typeof step).toBe('string');
    });

    it("plans 'noop' when the target already serves", () => {
      const serving = { sha: SHA_A, digest: `sha256:${'a'.repeat(64)}` };
      const plan = driver.plan({ env, target: serving, releases: [{ ...serving, state: 'serving' }] });
      expect(plan.kind).toBe('noop');
    });

    it('serves nothing and is not healthy before the first deployment', async () => {
      expect(await fixture.serving(env)).toBeNull();
      expect((await driver.health(env, context())).healthy).toBe(false);
    });

    it(
      'deploys v1: v1 serves, health is healthy with its SHA, and phases have known names',
      async () => {
        const result = await deployAndCheckPhases(v1);
        expect(result.kind).not.toBe('noop');
        await expectServing(v1, 'v1');
      },
      timeout,
    );

    it(
      'deploys v2 over v1: v2 serves',
      async () => {
        await deployAndCheckPhases(v2);
        await expectServing(v2, 'v2');
      },
      timeout,
    );

    it(
      'rejects a release that never becomes healthy, and v2 keeps serving',
      async () => {
        await expect(driver.deploy(broken, context())).rejects.toThrow();
        await expectServing(v2, 'v2');
      },
      timeout * 2,
    );

    it(
      'rolls back by deploying v1 again: v1 serves',
      async () => {
        await deployAndCheckPhases({ ...v1, deploymentId: `${v1.deploymentId}-rollback` });
        await expectServing(v1, 'v1');
      },
      timeout,
    );

    it(
      'rejects a deployment whose signal is already aborted, without changing what serves',
      async () => {
        const controller = new AbortController();
        controller.abort();
        await expect(driver.deploy(v2, context(controller.signal))).rejects.toThrow();
        await expectServing(v1, 'v1');
      },
      timeout,
    );

    it(
      'stops: nothing serves, health is not healthy, and stopping again is harmless',
      async () => {
        await driver.stop(env, context());
        expect(await fixture.serving(env)).toBeNull();
        expect((await driver.health(env, context())).healthy).toBe(false);
        await driver.stop(env, context());
        expect(await fixture.serving(env)).toBeNull();
      },
      timeout,
    );
  });
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
