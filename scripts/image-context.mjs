#!/usr/bin/env node
// `node scripts/image-context.mjs <dir>`: turns a folder where the packed package is installed
// (`npm install gantry-<version>.tgz`) into the build context of packaging/Containerfile by adding
// native-libs/: every shared library the installed native modules (*.node) link against, as `ldd`
// resolves them on this machine, at its own path (native-libs/lib/x86_64-linux-gnu/librt.so.1).
// The image copies each one only where its base has none, so a minimal base (this project's
// busybox-and-node image, which carries only node's own libraries) gets e.g. the librt that
// @node-rs/argon2 needs, and a full distribution image keeps its own.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const dir = resolve(process.argv[2] ?? '');
if (!process.argv[2] || !existsSync(join(dir, 'node_modules/gantry/package.json'))) {
  console.error('usage: node scripts/image-context.mjs <folder where gantry-<version>.tgz is installed>');
  process.exit(2);
}

function nativeModules(folder, out = []) {
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) nativeModules(path, out);
    else if (entry.isFile() && entry.name.endsWith('.node')) out.push(path);
  }
  return out;
}

const libraries = new Set();
for (const module of nativeModules(join(dir, 'node_modules'))) {
  const ldd = spawnSync('ldd', [module], { encoding: 'utf8' });
  // A module for another platform or libc (an optional package npm still unpacked) is not ours to serve.
  if (ldd.status !== 0 || /not a dynamic executable/.test(ldd.stdout + ldd.stderr)) continue;
  for (const line of ldd.stdout.split('\n')) {
    const path = /=> (\/\S+)/.exec(line)?.[1] ?? /^\s+(\/\S+)/.exec(line)?.[1];
    if (path) libraries.add(path);
  }
}
const target = join(dir, 'native-libs');
rmSync(target, { recursive: true, force: true });
mkdirSync(target, { recursive: true });
for (const path of libraries) {
  mkdirSync(dirname(join(target, path)), { recursive: true });
  copyFileSync(path, join(target, path)); // follows symlinks, as `cp -L`
}
process.stdout.write(`${dir}: native-libs/ holds ${libraries.size} libraries for the native modules\n`);
