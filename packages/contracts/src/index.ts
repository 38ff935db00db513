export * from './config-issues.js';
export * from './duration.js';
export * from './events.js';
export * from './gantry-yaml.js';
export * from './human-duration.js';
export * from './parse-gantry-yaml.js';
export * from './resources.js';
export * from './toggles.js';
