import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

type Definition = { name: string; examples: unknown[] };

export type Example = { source: string; index: number; payload: Record<string, unknown> };

const root = dirname(createRequire(import.meta.url).resolve('@octokit/webhooks-examples/package.json'));

// api.github.com plus every GitHub Enterprise Server version the package ships.
const definitionsBySource = readdirSync(root)
  .filter((dir) => existsSync(join(root, dir, 'index.json')))
  .map((source) => ({
    source,
    definitions: JSON.parse(readFileSync(join(root, source, 'index.json'), 'utf8')) as Definition[],
  }));

export function githubExamples(event: string): Example[] {
  return definitionsBySource.flatMap(({ source, definitions }) =>
    (definitions.find((d) => d.name === event)?.examples ?? []).map((payload, index) => ({
      source,
      index,
      payload: payload as Record<string, unknown>,
    })),
  );
}
