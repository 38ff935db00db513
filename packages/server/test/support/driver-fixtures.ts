import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { packDirectory } from '../../src/features/artifacts/artifact-pack.js';

export interface SampleAppOptions {
  /** false: the app listens, but /healthz answers 500 forever. Default true. */
  healthy?: boolean;
  /** The app exits with code 1 this long after it starts listening. */
  crashAfterMs?: number;
  /** The app exits by itself after this long, so that a killed test run leaves nothing behind. */
  lifetimeMs?: number;
}

export interface SampleArtifact {
  path: string;
  digest: string;
}

/**
 * Packs a tiny HTTP app into `<dir>/<version>.tar.gz`. It listens on 127.0.0.1:$PORT and answers
 * `/` with its version, `/healthz` with 200 (500 when unhealthy), `/config/<NAME>` with that
 * environment variable, and `/slow?ms=N` with its version after N ms; SIGTERM lets in-flight
 * requests finish. Started with `node server.js` in the unpacked folder.
 */
export async function makeSampleArtifact(
  dir: string,
  version: string,
  opts: SampleAppOptions = {},
): Promise<SampleArtifact> {
  const src = join(dir, `src-${version}`);
  await mkdir(src, { recursive: true });
  await writeFile(join(src, 'server.js'), sampleServer(version, opts));
  await writeFile(join(src, 'package.json'), `${JSON.stringify({ name: 'sample', version: '0.0.0' })}\n`);
  const path = join(dir, `${version}.tar.gz`);
  const { digest } = await packDirectory(src, path);
  return { path, digest };
}

/** A stable, distinct 40-hex "commit SHA" for a sample version. */
export function shaOf(version: string): string {
  return createHash('sha1').update(`sample ${version}`).digest('hex');
}

/** GET http://127.0.0.1:<port>/ — the version that answers there, or null when nothing does. */
export async function servingVersion(port: number): Promise<string | null> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2_000) });
    return res.ok ? (await res.text()).trim() : null;
  } catch {
    return null;
  }
}

function sampleServer(version: string, opts: SampleAppOptions): string {
  const settings = JSON.stringify({
    version,
    healthy: opts.healthy ?? true,
    crashAfterMs: opts.crashAfterMs ?? null,
    lifetimeMs: opts.lifetimeMs ?? 10 * 60_000,
  });
  return `'use strict';
const http = require('node:http');
const s = ${settings};
const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  if (url.pathname === '/healthz') {
    res.writeHead(s.healthy ? 200 : 500).end(s.healthy ? 'ok' : 'unhealthy');
  } else if (url.pathname.startsWith('/config/')) {
    const value = process.env[decodeURIComponent(url.pathname.slice(8))];
    res.writeHead(value === undefined ? 404 : 200).end(value ?? '');
  } else if (url.pathname === '/slow') {
    setTimeout(() => res.end(s.version), Number(url.searchParams.get('ms') ?? 500));
  } else {
    res.end(s.version);
  }
});
server.listen(Number(process.env.PORT), '127.0.0.1', () => {
  console.log('sample ' + s.version + ' listening on ' + process.env.PORT);
  if (s.crashAfterMs !== null) setTimeout(() => process.exit(1), s.crashAfterMs);
});
setTimeout(() => process.exit(0), s.lifetimeMs).unref();
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  setTimeout(() => process.exit(0), 5000).unref();
});
`;
}
