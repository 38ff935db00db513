#!/usr/bin/env node
// Compiles the CLI (with @gantry/contracts) to JavaScript in packages/cli/dist, so `gantry` starts
// without a TypeScript loader, and the server (with @gantry/contracts and @gantry/driver-api) to
// packages/server/dist/bundle: its entry point index.mjs and the per-environment proxy,
// proxy-main.mjs, which the bundled server starts instead of proxy-main.ts through tsx (and the
// server's sources too while it is newer than the sources it was built from).
// `bin/gantry.js` runs the sources through tsx instead whenever the CLI's dist is missing or older
// than them; the commands that need the server (server, demo, hook, metrics from an events file)
// load its bundle while it is newer than the server's sources (packages/cli/src/server-module.ts),
// and its TypeScript sources through tsx otherwise.
import { rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bundled = /^@gantry\/(contracts|driver-api)(\/|$)/;
/**
 * Every package import stays an import (node_modules), but the two shared sources and `also`
 * (the CLI bundles commander: from node_modules it is CommonJS, which Node loads through its CJS
 * loader and lexer, about 5 ms of every command's start).
 */
const externalPackages = (...also) => ({
  name: 'external-packages',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) =>
      bundled.test(args.path) || also.includes(args.path) || args.kind === 'entry-point'
        ? undefined
        : { path: args.path, external: true },
    );
  },
});
const common = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  absWorkingDir: root,
  outExtension: { '.js': '.mjs' },
  sourcemap: 'linked',
  logLevel: 'warning',
};
const started = performance.now();

// The server. Two levels below packages/server, as its sources are below packages/server/src: the
// code finds its package.json as '../../package.json' from import.meta.url (http/server-routes.ts).
// No splitting, so import.meta.url is the entry's own file and proxy-main.mjs lies beside it.
// `--out <dir>`: the CLI to <dir>/cli and the server to <dir>/server instead, leaving the clone's
// builds alone (scripts/pack.mjs builds there while test suites may be running the clone's).
const outArg = process.argv.indexOf('--out');
const outRoot = outArg > 0 ? resolve(process.argv[outArg + 1]) : undefined;
const serverDist = outRoot ? join(outRoot, 'server') : join(root, 'packages/server/dist');
const serverEntry = relative(root, join(serverDist, 'bundle/index.mjs'));
rmSync(serverDist, { recursive: true, force: true });
const server = await build({
  ...common,
  entryPoints: {
    index: join(root, 'packages/server/src/index.ts'),
    'proxy-main': join(root, 'packages/server/src/drivers/process/proxy-main.ts'),
  },
  outdir: join(root, dirname(serverEntry)),
  plugins: [externalPackages()],
  metafile: true,
});
// What the bundles import from node_modules: scripts/pack.mjs derives the packed CLI's dependencies from it.
writeFileSync(join(serverDist, 'metafile.json'), JSON.stringify(server.metafile));
const serverExports = server.metafile.outputs[serverEntry]?.exports;
if (!serverExports?.length) throw new Error(`esbuild reported no exports for ${serverEntry}`);
// The server's sources start this proxy too while it is newer than these (proxy-control.ts).
const proxyEntry = join(dirname(serverEntry), 'proxy-main.mjs');
const proxyInputs = Object.keys(server.metafile.outputs[proxyEntry]?.inputs ?? {});
if (!proxyInputs.length) throw new Error(`esbuild reported no inputs for ${proxyEntry}`);
writeFileSync(
  join(root, dirname(serverEntry), 'proxy-main.inputs.json'),
  `${JSON.stringify({ inputs: proxyInputs.map((input) => relative(dirname(serverEntry), input)) }, null, 2)}\n`,
);
// Written last: packages/cli/src/server-module.ts compares the server's sources with this file's time.
writeFileSync(join(serverDist, 'built.json'), `${JSON.stringify({ builtAt: new Date().toISOString() })}\n`);

/**
 * In the CLI, `@gantry/server` is a module of the bundle that loads the server through
 * `loadServer()` (the bundle when fresh, else the sources through tsx) and re-exports its names,
 * so the commands keep their static imports. server-module.ts itself imports the real package.
 */
const serverModule = join(root, 'packages/cli/src/server-module.ts');
const serverThroughLoader = {
  name: 'server-through-loader',
  setup(b) {
    b.onResolve({ filter: /^@gantry\/server$/ }, (args) =>
      args.importer === serverModule
        ? { path: args.path, external: true }
        : { path: 'gantry-server', namespace: 'gantry-server' },
    );
    b.onLoad({ filter: /.*/, namespace: 'gantry-server' }, () => ({
      contents: [
        `import { loadServer } from ${JSON.stringify(serverModule)};`,
        'const server = await loadServer();',
        `export const { ${serverExports.join(', ')} } = server;`,
      ].join('\n'),
      resolveDir: root,
      loader: 'js',
    }));
  },
};
const outdir = outRoot ? join(outRoot, 'cli') : join(root, 'packages/cli/dist');
rmSync(outdir, { recursive: true, force: true });
const cli = await build({
  ...common,
  entryPoints: { gantry: join(root, 'packages/cli/src/main.ts') },
  outdir,
  splitting: true,
  // commander's require('node:events') and the like, in the bundled CommonJS.
  banner: {
    js: "import { createRequire as __gantryRequire } from 'node:module';\nconst require = __gantryRequire(import.meta.url);",
  },
  plugins: [serverThroughLoader, externalPackages('commander')],
  chunkNames: 'chunks/[name]-[hash]',
  metafile: true,
});
writeFileSync(join(outdir, 'metafile.json'), JSON.stringify(cli.metafile));
// Written last: bin/gantry.js compares the sources with this file's time.
writeFileSync(join(outdir, 'built.json'), `${JSON.stringify({ builtAt: new Date().toISOString() })}\n`);
if (!process.argv.includes('--quiet')) {
  process.stdout.write(
    `built ${relative(root, outdir)} and ${relative(root, serverDist)} in ${Math.round(performance.now() - started)} ms\n`,
  );
}
