export { loadServerConfig, type ServerConfig } from './config/server-config.js';
export { connectEngine, type Engine, EngineUnavailable } from './containers/engine.js';
export { parseRegistryAddress, RegistryClient, RegistryError } from './containers/registry.js';
export { type Database, openDatabase } from './db/database.js';
export * from './errors.js';
export { type AgentOptions, AgentRefused, runAgent } from './features/agents/agent-worker.js';
export {
  type MetricsInput,
  type MetricsReport,
  pooledReportFromEvents,
  reportFromEvents,
} from './features/metrics/engine/index.js';
export { EventsFileError, type EventsFileNotes, parseEventsFile } from './features/metrics/events-file.js';
export { renderReportHtml } from './features/metrics/report-html.js';
export { createGantry, type Gantry } from './gantry.js';
export { installPostReceiveHook, renderPostReceiveHook } from './git/post-receive-hook.js';
export { buildHttpApp } from './http/http-app.js';
export { type RunningServer, startServer } from './start-server.js';
