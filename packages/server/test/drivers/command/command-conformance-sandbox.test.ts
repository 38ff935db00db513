import { describeDriverConformance } from '@gantry/driver-api/conformance';
import { describe, it } from 'vitest';
import { createSandbox } from '../../../src/sandbox/host-sandbox.js';
import { HAS_BWRAP } from '../../support/sandbox-fixtures.js';
import { commandAgentFixture } from './command-agent-fixture.js';

// The command driver's conformance with its scripts in bubblewrap (test/global-setup.ts requires
// it in CI); they reach the deploy target over loopback, as helm or ssh would.
if (HAS_BWRAP) {
  const sandbox = await createSandbox({ mode: 'bwrap', hidden: [] });
  describeDriverConformance('command in the sandbox', commandAgentFixture(sandbox));
} else {
  describe.skip('driver conformance: command in the sandbox (bubblewrap missing)', () => {
    it('needs bwrap', () => undefined);
  });
}
