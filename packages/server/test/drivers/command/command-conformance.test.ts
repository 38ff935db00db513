import { describeDriverConformance } from '@gantry/driver-api/conformance';
import { commandFixture } from './command-fixture.js';

describeDriverConformance('command', commandFixture());
