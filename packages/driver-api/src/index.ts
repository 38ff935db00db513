export * from './driver.js';
// The conformance suite (test/conformance.ts, '@gantry/driver-api/conformance') is test tooling: it
// imports vitest, which only the workspace's dev dependencies provide, so no runtime install pulls it.
