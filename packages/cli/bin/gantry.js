#!/usr/bin/env node
// Runs the compiled CLI (packages/cli/dist, made by scripts/build-cli.mjs) when it is newer than the
// sources it was built from; otherwise the TypeScript sources through tsx, so a clone works without
// a build and an edited source is never shadowed by an old build.
import { readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const SOURCES = ['../src', '../../contracts/src', '../../driver-api/src'].map(here);

function newestIn(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    newest = Math.max(newest, entry.isDirectory() ? newestIn(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function compiledIsFresh() {
  try {
    const built = statSync(here('../dist/built.json')).mtimeMs;
    return SOURCES.every((dir) => newestIn(dir) <= built);
  } catch {
    return false;
  }
}

if (process.env.GANTRY_CLI_FROM_SOURCES !== '1' && compiledIsFresh()) {
  await import('../dist/gantry.mjs');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/main.ts');
}
