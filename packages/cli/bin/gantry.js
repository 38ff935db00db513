#!/usr/bin/env node
// The `gantry` command. In an installed package (scripts/pack.mjs) there are no sources beside it, so
// it runs the compiled CLI at once. In a clone it runs the compiled CLI (packages/cli/dist, made by
// scripts/build-cli.mjs) when that is newer than the sources it was built from, and otherwise the
// TypeScript sources through tsx, so a clone works without a build and an edited source is never
// shadowed by an old build.
import { readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));

/** The newest modification time under `dir`, or Infinity as soon as one passes `limit`. */
function newestIn(dir, limit) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    newest = Math.max(newest, entry.isDirectory() ? newestIn(path, limit) : statSync(path).mtimeMs);
    if (newest > limit) return Number.POSITIVE_INFINITY;
  }
  return newest;
}

/** 'installed' (no sources), 'compiled' (a clone whose build is fresh) or 'sources'. */
function mode() {
  const sources = here('../src');
  if (!statSync(sources, { throwIfNoEntry: false })) return 'installed';
  if (process.env.GANTRY_CLI_FROM_SOURCES === '1') return 'sources';
  const built = statSync(here('../dist/built.json'), { throwIfNoEntry: false })?.mtimeMs;
  if (built === undefined) return 'sources';
  const all = [sources, here('../../contracts/src'), here('../../driver-api/src')];
  return all.every((dir) => newestIn(dir, built) <= built) ? 'compiled' : 'sources';
}

if (mode() !== 'sources') {
  await import('../dist/gantry.mjs');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/main.ts');
}
