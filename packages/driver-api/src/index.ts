export * from './conformance.js';
export * from './driver.js';
