import type { Context, Unleash } from 'unleash-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientFeatures, ToggleContext } from '../../../src/features/toggles/evaluator/toggle-types.js';
import { createApp, yamlWithSteps } from '../../support/app-fixture.js';
import { engines } from '../../support/engines.js';
import { cleanupAll } from '../../support/git-fixtures.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { loadClientSpecs } from '../evaluator/client-spec-cases.js';
import { createSdkClient } from '../evaluator/unleash-sdk-client.js';
import { clientToken, sdkFetch, startSdk } from './client-api-fixture.js';

afterAll(cleanupAll);

const specs = loadClientSpecs();

/** The spec gives `currentTime` as an ISO string, which the SDK's date operators parse as they are. */
const sdkContext = (c: ToggleContext) => c as Context;

/**
 * `@unleash/client-specification` end to end: each file's state goes in through our admin import
 * into an environment of its own, and the real unleash-client reads it back from
 * `/api/client/features` with a client token for that environment.
 */
describe.each(engines)(
  '@unleash/client-specification through unleash-client and Gantry on $name',
  (engine) => {
    let server: TestServer;
    let passed = 0;
    beforeAll(async () => {
      server = await startTestServer(engine);
      await createApp(server, yamlWithSteps(['true']), { name: 'spec' });
    });
    afterAll(async () => server.close());

    specs.forEach((spec, i) => {
      it(spec.file, async () => {
        const env = `spec-${String(i + 1).padStart(2, '0')}`;
        const imported = await server.api('POST', `/api/apps/spec/toggles/import?env=${env}`, spec.state);
        expect(imported.status, JSON.stringify(imported.body)).toBe(200);
        const token = await clientToken(server, 'spec', env);
        let sdk: Unleash | undefined;
        try {
          sdk = await startSdk(server, token, {
            appName: `spec-${i}`,
            disableMetrics: true,
            refreshInterval: 60_000,
          });
          for (const c of spec.tests) {
            expect(
              sdk.isEnabled(c.toggleName, sdkContext(c.context)),
              `${c.description} (${c.toggleName})`,
            ).toBe(c.expectedResult);
            passed++;
          }
          for (const c of spec.variantTests) {
            const { featureEnabled: _, ...variant } = sdk.getVariant(c.toggleName, sdkContext(c.context));
            expect(variant, `${c.description} (${c.toggleName})`).toStrictEqual(c.expectedResult);
            passed++;
          }
        } finally {
          sdk?.destroy();
        }

        // Old clients get segments inlined into constraints; the SDK's evaluation must not change.
        const res = await sdkFetch(server, '/api/client/features', token, {
          headers: { 'unleash-client-spec': '4.1.0' },
        });
        const inlined = (await res.json()) as ClientFeatures & { segments?: unknown };
        expect(inlined.segments).toBeUndefined();
        const old = createSdkClient(inlined);
        for (const c of spec.tests) {
          expect(
            old.isEnabled(c.toggleName, c.context, () => false),
            `inlined: ${c.description}`,
          ).toBe(c.expectedResult);
        }
      });
    });

    it('ran every case of every file in index.json', () => {
      const total = specs.reduce((n, s) => n + s.tests.length + s.variantTests.length, 0);
      expect(specs.length).toBeGreaterThanOrEqual(22);
      expect(total).toBeGreaterThanOrEqual(279);
      expect(passed).toBe(total);
      process.stdout.write(
        `client-specification via unleash-client on ${engine.name}: ${passed}/${total} cases\n`,
      );
    });
  },
);
