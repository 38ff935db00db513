import { resolve } from 'node:path';
import { loadServerConfig, type ServerConfig, startServer } from '@gantry/server';
import { linkServer, type ServerLink } from '../cli-config.js';
import { CliError } from '../context.js';

export interface ServerOptions {
  port?: string;
  host?: string;
  dataDir?: string;
  databaseUrl?: string;
  concurrency?: string;
  logFile?: string;
  sandbox?: string;
}

export async function serverCommand(opts: ServerOptions): Promise<void> {
  const { config, errors, warnings } = loadServerConfig({
    ...(opts.port !== undefined && { port: Number(opts.port) }),
    ...(opts.host !== undefined && { host: opts.host }),
    ...(opts.dataDir !== undefined && { dataDir: opts.dataDir }),
    ...(opts.databaseUrl !== undefined && { databaseUrl: opts.databaseUrl }),
    ...(opts.concurrency !== undefined && { runnerConcurrency: Number(opts.concurrency) }),
    ...(opts.logFile !== undefined && { logFile: resolve(opts.logFile) }),
    ...(opts.sandbox !== undefined && { buildsSandbox: opts.sandbox as ServerConfig['buildsSandbox'] }),
  });
  if (errors.length) throw new CliError(`server settings are not valid:\n  ${errors.join('\n  ')}`);
  // Everything the server writes (database, logs, mirrors, tokens) is its owner's alone.
  process.umask(0o077);
  for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
  // Listen for signals before saying we listen: a SIGTERM sent as soon as that line appears must stop
  // the server cleanly, not kill it before the handlers exist (seen on a loaded machine).
  const stopRequested = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  const server = await startServer(config);
  // Before the first line is printed: whoever reacts to it (a `gantry login` typed then) comes after.
  const link = await linkServer(config.dataDir, server.url);
  const db = config.databaseUrl?.startsWith('postgres') ? 'PostgreSQL' : `SQLite in ${config.dataDir}`;
  process.stdout.write(`Gantry is listening on ${server.url} (data: ${config.dataDir}, store: ${db})\n`);
  process.stdout.write(`Web console: ${server.url}/ (sign in with an admin or metrics token)\n`);
  const sandbox = server.gantry.sandbox.status;
  if (!sandbox.active) {
    process.stderr.write(
      `WARNING: no build sandbox (${sandbox.reason}): build steps and deploy scripts run as this user and can read what it can (the data dir, the database, tokens). Install bubblewrap, or run with --sandbox bwrap to require it.\n`,
    );
  }
  if (server.adminToken) {
    process.stdout.write(
      `First start: admin token (shown once, stored hashed):\n\n  ${server.adminToken}\n\n` +
        `The CLI on this machine finds it in ${config.dataDir}/cli.json; on other machines run\n` +
        `  gantry login ${server.url} <token>\n`,
    );
  }
  process.stdout.write(linkSaid(link, server.url, config.dataDir));
  await stopRequested;
  process.stdout.write('stopping…\n');
  await server.stop();
}

/** How the CLI of this user finds the server from now on (see linkServer and docs/install.md). */
function linkSaid(link: ServerLink, url: string, dataDir: string): string {
  switch (link.kind) {
    case 'saved':
      return (
        `The gantry CLI of this user finds this server from any folder (${link.file} points at ${dataDir}` +
        `${link.replaced ? `, before at ${link.replaced}` : ''}).\n`
      );
    case 'logged-in':
      return `The gantry CLI of this user finds this server from any folder (logged in to it in ${link.file}).\n`;
    case 'logged-in-elsewhere':
      return (
        `Note: the gantry CLI of this user is logged in to ${link.url} (${link.file}) and keeps using it; ` +
        `\`gantry login ${url} <token>\` switches to this server (its first admin token is in ${dataDir}/cli.json).\n`
      );
    case 'failed':
      return `Note: could not point the gantry CLI at this server (${link.reason}); use \`gantry login ${url} <token>\`.\n`;
  }
}
