export * from './driver.js';
// The conformance suite imports vitest; load it from '@gantry/driver-api/conformance' in tests only.
