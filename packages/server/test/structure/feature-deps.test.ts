/**
 * Features declare the services they use (`<Feature>RoutesDeps` next to their routes); only the
 * composition root, `src/gantry.ts`, knows them all. This test reads the source tree and fails when
 * a file under `src/features` imports gantry.ts, directly or through any other module (index.ts and
 * start-server.ts re-export it, http-app.ts imports it), in any form: `import`, `import type`,
 * `export … from`, `import()` (also as a type) or the package's own name.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');
const ROOT = join(SRC, 'gantry.ts');
const FEATURES = join(SRC, 'features');
/** `@gantry/server` resolves to this (package.json `exports`). */
const PACKAGE_ENTRY = join(SRC, 'index.ts');

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.d.ts') ? [path] : [];
  });
}

/** Every module specifier a source text names: static, re-exports, side-effect and dynamic imports. */
function specifiers(text: string): string[] {
  const out: string[] = [];
  const patterns = [
    /\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const pattern of patterns) for (const m of text.matchAll(pattern)) out.push(m[1]!);
  return out;
}

/** The source file a specifier in `from` names, when it is one of this package's. */
function resolveSpecifier(from: string, spec: string): string | undefined {
  if (spec === '@gantry/server') return PACKAGE_ENTRY;
  if (!spec.startsWith('.')) return undefined;
  const base = resolve(dirname(from), spec);
  const candidates = [base.replace(/\.js$/, '.ts'), base, `${base}.ts`, join(base, 'index.ts')];
  return candidates.find((c) => c.endsWith('.ts') && existsSync(c));
}

function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of tsFiles(SRC)) {
    const deps = specifiers(readFileSync(file, 'utf8'))
      .map((s) => resolveSpecifier(file, s))
      .filter((d): d is string => d !== undefined);
    graph.set(file, deps);
  }
  return graph;
}

/** The import chain from `start` to `target`, or undefined when `target` cannot be reached. */
function chainTo(graph: Map<string, string[]>, start: string, target: string): string[] | undefined {
  const cameFrom = new Map<string, string | null>([[start, null]]);
  const queue = [start];
  while (queue.length > 0) {
    const file = queue.shift()!;
    if (file === target) {
      const chain: string[] = [];
      for (let f: string | null | undefined = file; f; f = cameFrom.get(f)) chain.unshift(f);
      return chain;
    }
    for (const dep of graph.get(file) ?? []) {
      if (cameFrom.has(dep)) continue;
      cameFrom.set(dep, file);
      queue.push(dep);
    }
  }
  return undefined;
}

const rel = (f: string) => relative(SRC, f);

describe('feature dependencies', () => {
  const graph = importGraph();
  const features = [...graph.keys()].filter((f) => f.startsWith(`${FEATURES}/`));

  it('no file under src/features reaches the composition root (gantry.ts)', () => {
    expect(features.length).toBeGreaterThan(50);
    const offenders = features
      .map((f) => chainTo(graph, f, ROOT))
      .filter((chain): chain is string[] => chain !== undefined)
      .map((chain) => chain.map(rel).join(' -> '));
    expect(offenders, 'declare the services a feature uses in its own folder instead').toEqual([]);
  });

  it('sees the composition root where it is imported (so the check above can fail)', () => {
    expect(chainTo(graph, join(SRC, 'http/http-app.ts'), ROOT)?.map(rel)).toEqual([
      'http/http-app.ts',
      'gantry.ts',
    ]);
    expect(chainTo(graph, join(SRC, 'start-server.ts'), ROOT)).toBeDefined();
    const viaIndex = join(FEATURES, 'apps/x.ts');
    const probe = new Map(graph).set(viaIndex, [resolveSpecifier(viaIndex, '@gantry/server')!]);
    expect(chainTo(probe, viaIndex, ROOT)?.map(rel)).toEqual(['features/apps/x.ts', 'index.ts', 'gantry.ts']);
  });

  it('reads every form of import', () => {
    const text = [
      "import type { Gantry } from '../../gantry.js';",
      'import {',
      '  createGantry,',
      "} from '../../gantry.js';",
      "export type { Gantry } from '../../gantry';",
      "import '../../gantry.js';",
      "type G = import('../../gantry.js').Gantry;",
      "const m = await import ('../../gantry.js');",
    ].join('\n');
    const from = join(FEATURES, 'builds/builds-routes.ts');
    const found = specifiers(text).map((s) => resolveSpecifier(from, s));
    expect(found).toHaveLength(6);
    expect(new Set(found)).toEqual(new Set([ROOT]));
  });
});
