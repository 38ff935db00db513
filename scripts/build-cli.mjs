#!/usr/bin/env node
// Compiles the CLI (with @gantry/contracts) to JavaScript in packages/cli/dist, so `gantry` starts
// without a TypeScript loader. Commands that need the server (server, demo, hook, metrics from an
// events file) load @gantry/server from its TypeScript sources through tsx, in their own chunks.
// `bin/gantry.js` runs the sources through tsx instead whenever dist is missing or older than them.
import { rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bundled = /^@gantry\/(contracts|driver-api)(\/|$)/;
/** Every package import stays an import (node_modules, @gantry/server), but the two shared sources. */
const externalPackages = {
  name: 'external-packages',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) =>
      bundled.test(args.path) || args.kind === 'entry-point'
        ? undefined
        : { path: args.path, external: true },
    );
  },
};
const outdir = join(root, 'packages/cli/dist');
const started = performance.now();
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: { gantry: join(root, 'packages/cli/src/main.ts') },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  plugins: [externalPackages],
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  sourcemap: 'linked',
  logLevel: 'warning',
});
// Written last: bin/gantry.js compares the sources with this file's time.
writeFileSync(join(outdir, 'built.json'), `${JSON.stringify({ builtAt: new Date().toISOString() })}\n`);
if (!process.argv.includes('--quiet')) {
  process.stdout.write(`built packages/cli/dist in ${Math.round(performance.now() - started)} ms\n`);
}
