import { readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * @gantry/server ships as TypeScript sources, and scripts/build-cli.mjs compiles it to
 * packages/server/dist/bundle. The compiled CLI (packages/cli/dist) loads that bundle when a command
 * needs the server (server, demo, hook, metrics from an events file) while it is newer than every
 * source it was built from (the rule of bin/gantry.js), and otherwise registers tsx and loads the
 * sources, so an edit is never shadowed by an old build. Every other command loads neither.
 * From the sources (bin/gantry.js ran them through tsx), the server comes from its sources too.
 * An installed package (scripts/pack.mjs) has neither sources nor `@gantry/server`: its package.json
 * maps `#gantry/server` to the bundle it ships, which is loaded as is.
 */
const fromSources = import.meta.url.endsWith('.ts');
/** The server's bundle in an installed package, from its package.json's `imports`. */
const INSTALLED = '#gantry/server';
let registered: Promise<void> | undefined;
let compiled: string | null | undefined;

function newestIn(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestIn(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** The URL of the server's bundle while it is fresh, else null (then the sources are loaded). */
export function compiledServer(): string | null {
  if (compiled !== undefined) return compiled;
  compiled = null;
  if (fromSources) return compiled;
  try {
    compiled = import.meta.resolve(INSTALLED);
    return compiled;
  } catch {
    // A clone: the package.json next to this file has no `imports`.
  }
  if (process.env.GANTRY_CLI_FROM_SOURCES === '1') return compiled;
  try {
    const require = createRequire(import.meta.url);
    // Each resolves to <package>/src/index.ts.
    const [server, ...shared] = ['@gantry/server', '@gantry/contracts', '@gantry/driver-api'].map((name) =>
      dirname(require.resolve(name)),
    );
    const dist = join(dirname(server!), 'dist');
    const built = statSync(join(dist, 'built.json')).mtimeMs;
    if ([server!, ...shared].every((dir) => newestIn(dir) <= built)) {
      compiled = pathToFileURL(join(dist, 'bundle/index.mjs')).href;
    }
  } catch {
    // No build (or a partial one): the sources.
  }
  return compiled;
}

/** Makes `import('@gantry/server')` (and modules that import it) loadable; once per process. */
export function ensureTypescript(): Promise<void> {
  registered ??= (async () => {
    if (fromSources || compiledServer()) return;
    const { register } = await import('tsx/esm/api');
    register();
  })();
  return registered;
}

export async function loadServer(): Promise<typeof import('@gantry/server')> {
  await ensureTypescript();
  const url = compiledServer();
  return url ? ((await import(url)) as typeof import('@gantry/server')) : import('@gantry/server');
}
