#!/usr/bin/env node
// `npm run pack`: makes gantry-<version>.tgz, an npm package of the whole of Gantry (the CLI with the
// server and the web console) that runs compiled code only, so that `npm install -g gantry-*.tgz`
// gives a `gantry` command (docs/install.md). It holds:
//   bin/gantry.js        the CLI's entry, packages/cli/bin/gantry.js: with no sources beside it, it
//                        runs dist/gantry.mjs at once
//   dist/                the compiled CLI (scripts/build-cli.mjs)
//   lib/server/          the compiled server, index.mjs, and the per-environment proxy, proxy-main.mjs,
//                        which the server starts beside itself (scripts/build-cli.mjs)
//   lib/web/             the web console (packages/web/dist, by scripts/build-web.mjs)
//   package.json         `bin`, `imports` (#gantry/server: how the CLI finds the server's bundle) and
//                        `dependencies`: exactly the npm packages the shipped bundles import, taken
//                        from esbuild's metafiles and pinned to the versions in package-lock.json
// The CLI and the server are compiled for the package into <out>/build (scripts/build-cli.mjs --out:
// about a second, and the clone's own builds, which running tests may be using, stay as they
// are); the console is built by scripts/build-web.mjs as `npm run build` does.
// Options: --out <dir> (default dist/pack), --reuse-console (take packages/web/dist as it is when it
// has been built: npm test builds it before the suites), --json (print what was packed), --image
// <tag> (also build the container image of packaging/Containerfile, with podman or else docker).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? resolve(args[i + 1]) : fallback;
};
const outDir = option('--out', join(root, 'dist/pack'));
const json = flag('--json');
const say = (msg) => json || process.stderr.write(`${msg}\n`);
const started = performance.now();

/**
 * Imported by the bundles but never installed with the package: the CLI reaches the server through
 * `#gantry/server` in an installed package (packages/cli/src/server-module.ts), and tsx runs a
 * clone's TypeScript sources only (an installed package has none).
 */
const NOT_SHIPPED = new Map([
  ['@gantry/server', 'bundled as lib/server/index.mjs, reached through #gantry/server'],
  ['tsx', "runs a clone's TypeScript sources; an installed package has none"],
]);

function run(cmd, argv, opts = {}) {
  const res = spawnSync(cmd, argv, {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    ...opts,
  });
  if (res.status !== 0) {
    throw new Error(
      `${cmd} ${argv.join(' ')} failed (${res.status ?? res.signal}):\n${res.stdout}${res.stderr}`,
    );
  }
  return res.stdout;
}

// 1. The bundles.
const build = join(outDir, 'build');
say('compiling the CLI and the server (scripts/build-cli.mjs)…');
run(process.execPath, ['scripts/build-cli.mjs', '--quiet', '--out', build]);
const web = join(root, 'packages/web/dist');
if (!flag('--reuse-console') || !existsSync(join(web, 'index.html'))) {
  say('building the web console (scripts/build-web.mjs)…');
  run(process.execPath, ['scripts/build-web.mjs', '--quiet']);
}

// 2. Its dependencies: every package an input of a shipped output imports and esbuild left external.
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
const builtin = new Set(builtinModules);
const packageOf = (spec) =>
  spec
    .split('/')
    .slice(0, spec.startsWith('@') ? 2 : 1)
    .join('/');
/** The workspace folder of a bundled source (paths in a metafile are relative to the repository). */
const workspaceOf = (input) => input.split('/').slice(0, 2).join('/');

const dependencies = new Map();
const problems = new Set();
function addDependenciesOf(metafileDir, isShipped) {
  const meta = JSON.parse(readFileSync(join(metafileDir, 'metafile.json'), 'utf8'));
  for (const [output, { inputs }] of Object.entries(meta.outputs)) {
    if (!isShipped(output)) continue;
    for (const input of Object.keys(inputs)) {
      for (const imp of meta.inputs[input]?.imports ?? []) {
        if (!imp.external || imp.path.startsWith('node:') || builtin.has(imp.path)) continue;
        const name = packageOf(imp.path);
        if (builtin.has(name) || NOT_SHIPPED.has(name)) continue;
        const ws = workspaceOf(input);
        const declared = JSON.parse(readFileSync(join(root, ws, 'package.json'), 'utf8')).dependencies ?? {};
        if (!declared[name])
          problems.add(`${input} imports ${name}, which ${ws}/package.json does not declare`);
        const entry = lock.packages[`${ws}/node_modules/${name}`] ?? lock.packages[`node_modules/${name}`];
        if (!entry?.version) {
          problems.add(`package-lock.json has no version of ${name} (imported by ${input})`);
          continue;
        }
        const seen = dependencies.get(name);
        if (seen && seen !== entry.version)
          problems.add(`${name} is locked at ${seen} and ${entry.version} for different workspaces`);
        dependencies.set(name, entry.version);
      }
    }
  }
}

const shippedMjs = (output) => output.endsWith('.mjs');
addDependenciesOf(join(build, 'cli'), shippedMjs);
addDependenciesOf(join(build, 'server'), shippedMjs);
if (problems.size)
  throw new Error(`the package's dependencies cannot be derived:\n  ${[...problems].join('\n  ')}`);

// 3. The package's folder.
const cli = JSON.parse(readFileSync(join(root, 'packages/cli/package.json'), 'utf8'));
const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const stage = join(outDir, 'package');
rmSync(stage, { recursive: true, force: true });
mkdirSync(stage, { recursive: true });
/** Compiled code and assets only: no source maps (they embed the TypeScript), no build stamps. */
const shipped = (src) => !/\.map$|[\\/](built|metafile|proxy-main\.inputs)\.json$/.test(src);
cpSync(join(root, 'packages/cli/bin/gantry.js'), join(stage, 'bin/gantry.js'));
cpSync(join(root, 'packages/cli/dist'), join(stage, 'dist'), { recursive: true, filter: shipped });
cpSync(join(root, 'packages/server/dist/bundle'), join(stage, 'lib/server'), {
  recursive: true,
  filter: shipped,
});
cpSync(join(root, 'packages/web/dist'), join(stage, 'lib/web'), { recursive: true, filter: shipped });
for (const must of [
  'dist/gantry.mjs',
  'lib/server/index.mjs',
  'lib/server/proxy-main.mjs',
  'lib/web/index.html',
]) {
  if (!existsSync(join(stage, must))) throw new Error(`the package would lack ${must}`);
}
const manifest = {
  name: 'gantry',
  version: cli.version,
  description:
    'Self-hosted continuous delivery: every commit built once, promoted by tag, rolled back in a second.',
  type: 'module',
  bin: { gantry: 'bin/gantry.js' },
  imports: { '#gantry/server': './lib/server/index.mjs' },
  engines: rootPkg.engines,
  dependencies: Object.fromEntries([...dependencies].sort(([a], [b]) => a.localeCompare(b))),
};
writeFileSync(join(stage, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
writeFileSync(
  join(stage, 'README.md'),
  `# Gantry ${cli.version}

Self-hosted continuous delivery, installed from a packed build (compiled JavaScript, no TypeScript
loader). \`gantry server\` starts the API, the build runner and the web console on SQLite in
\`./.gantry\`; \`gantry --help\` lists every command. Installing, the data dir, the CLI's config,
the container image and a systemd unit: docs/install.md in the Gantry repository.
`,
);

// 4. npm pack.
mkdirSync(outDir, { recursive: true });
const packed = JSON.parse(
  run('npm', ['pack', stage, '--json', '--pack-destination', outDir], { cwd: outDir }),
)[0];
const tarball = join(outDir, packed.filename);
const result = {
  tarball,
  name: manifest.name,
  version: manifest.version,
  dependencies: manifest.dependencies,
  sizeBytes: packed.size,
  unpackedBytes: packed.unpackedSize,
  files: packed.entryCount,
  ms: Math.round(performance.now() - started),
};

// 5. `--image <tag>`: the container image of packaging/Containerfile, from an install of the tarball.
const imageTag = args.includes('--image') ? args[args.indexOf('--image') + 1] : undefined;
if (imageTag) {
  const context = join(outDir, 'image');
  rmSync(context, { recursive: true, force: true });
  mkdirSync(context, { recursive: true });
  writeFileSync(join(context, 'package.json'), '{ "private": true }\n');
  say(`installing ${packed.filename} into ${context}…`);
  run('npm', ['install', '--omit=dev', '--no-audit', '--no-fund', '--loglevel=error', tarball], {
    cwd: context,
  });
  run(process.execPath, ['scripts/image-context.mjs', context]);
  const engine = spawnSync('podman', ['--version']).status === 0 ? 'podman' : 'docker';
  say(`building ${imageTag} with ${engine}…`);
  run(engine, [
    'build',
    ...(engine === 'podman' ? ['--format', 'docker'] : []),
    '-f',
    join(root, 'packaging/Containerfile'),
    '-t',
    imageTag,
    context,
  ]);
  result.image = imageTag;
}

if (json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
else {
  say(
    `packed ${relative(process.cwd(), tarball) || tarball}: ${result.files} files, ` +
      `${(packed.size / 1024 ** 2).toFixed(1)} MB (${(packed.unpackedSize / 1024 ** 2).toFixed(1)} MB unpacked), ` +
      `${dependencies.size} dependencies, in ${result.ms} ms`,
  );
  say(`install it with: npm install -g ${tarball}`);
  if (imageTag) say(`built the image ${imageTag} (docs/install.md: running it)`);
}
