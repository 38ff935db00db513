import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import {
  applyDeltaEvents,
  type DeltaEvent,
} from '../../../src/features/toggles/evaluator/apply-delta-events.js';
import type {
  ClientFeatures,
  ToggleContext,
  VariantResult,
} from '../../../src/features/toggles/evaluator/toggle-types.js';

export type SpecCase<Expected> = {
  description: string;
  context: ToggleContext;
  toggleName: string;
  expectedResult: Expected;
};

export type SpecFile = {
  file: string;
  name: string;
  /** The file's state as a full client-features body, delta events applied. */
  state: ClientFeatures;
  tests: SpecCase<boolean>[];
  variantTests: SpecCase<VariantResult>[];
};

type RawSpec = {
  name: string;
  state: ClientFeatures | { events: DeltaEvent[] };
  tests?: SpecCase<boolean>[];
  variantTests?: SpecCase<VariantResult>[];
};

const specDir = join(
  dirname(createRequire(import.meta.url).resolve('@unleash/client-specification/package.json')),
  'specifications',
);

/** Every file that `@unleash/client-specification`'s `specifications/index.json` lists, in order. */
export function loadClientSpecs(): SpecFile[] {
  const index = JSON.parse(readFileSync(join(specDir, 'index.json'), 'utf8')) as string[];
  return index.map((file) => {
    const raw = JSON.parse(readFileSync(join(specDir, file), 'utf8')) as RawSpec;
    const state = 'events' in raw.state ? applyDeltaEvents(raw.state.events) : raw.state;
    return { file, name: raw.name, state, tests: raw.tests ?? [], variantTests: raw.variantTests ?? [] };
  });
}
