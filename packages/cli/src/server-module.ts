/**
 * @gantry/server ships as TypeScript sources. The compiled CLI (packages/cli/dist) registers tsx
 * only when a command needs the server (server, demo, hook, metrics from an events file), so every
 * other command starts without a TypeScript loader.
 */
let registered: Promise<void> | undefined;

/** Makes `import('@gantry/server')` (and modules that import it) loadable; once per process. */
export function ensureTypescript(): Promise<void> {
  registered ??= (async () => {
    // From the sources, bin/gantry.js registered tsx already.
    if (import.meta.url.endsWith('.ts')) return;
    const { register } = await import('tsx/esm/api');
    register();
  })();
  return registered;
}

export async function loadServer(): Promise<typeof import('@gantry/server')> {
  await ensureTypescript();
  return import('@gantry/server');
}
