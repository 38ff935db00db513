import pino, { type Logger } from 'pino';
import pinoRoll from 'pino-roll';
import type { ServerConfig } from './config/server-config.js';

export interface ServerLog {
  logger: Logger;
  /** Flushes and closes the log file, if there is one. */
  close(): Promise<void>;
}

/**
 * The server's logger: JSON lines on stdout, or with `logFile` (`--log-file`, GANTRY_LOG_FILE) in
 * files rotated by size (pino-roll): `gantry.log` becomes gantry.1.log, gantry.2.log, …, the
 * highest number in use, at most `logFileKeep` older ones kept, each 0600.
 */
export async function createServerLog(config: ServerConfig): Promise<ServerLog> {
  if (!config.logFile) return { logger: pino({ level: config.logLevel }), close: async () => {} };
  const stream = await pinoRoll({
    file: config.logFile,
    size: `${Math.max(1, Math.ceil(config.logFileMaxBytes / 1024))}k`,
    // pino-roll keeps at least one older file.
    limit: { count: Math.max(1, config.logFileKeep), removeOtherLogFiles: true },
    mkdir: true,
    mode: 0o600,
  });
  return {
    logger: pino({ level: config.logLevel }, stream),
    close: () =>
      new Promise<void>((resolve) => {
        stream.once('close', () => resolve());
        stream.end(); // flushes what is buffered first
      }),
  };
}
