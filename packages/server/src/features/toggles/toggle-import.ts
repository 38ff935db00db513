import type {
  ToggleConstraint,
  ToggleDependency,
  ToggleStrategy,
  ToggleType,
  ToggleVariant,
} from '@gantry/contracts';
import { toggleTypes } from '@gantry/contracts';
import { InvalidInput } from '../../errors.js';
import type { AppRecord } from '../apps/app-store.js';

export interface UnleashState {
  features: Record<string, unknown>[];
  segments?: Record<string, unknown>[];
}

export interface ImportedToggle {
  name: string;
  type: ToggleType;
  description: string;
  impressionData: boolean;
  enabled: boolean;
  strategies: ToggleStrategy[];
  variants: ToggleVariant[];
  dependencies: ToggleDependency[];
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string' || v === '') throw new InvalidInput(`${what}: expected a non-empty string`);
  return v;
}

function arr<T>(v: unknown): T[] {
  return Array.isArray(v) ? (v as T[]) : [];
}

/**
 * Reads Unleash's client-API JSON as it is, without our admin API's stricter checks: imported state
 * may hold what SDKs tolerate (an unknown operator evaluates false), so it is kept verbatim.
 */
export function parseUnleashState(state: UnleashState): {
  toggles: ImportedToggle[];
  segments: { id: number; constraints: ToggleConstraint[] }[];
} {
  const toggles = state.features.map((f, i): ImportedToggle => {
    const name = str(f.name, `features[${i}].name`);
    const type = toggleTypes.includes(f.type as ToggleType) ? (f.type as ToggleType) : 'release';
    const strategies = arr<Record<string, unknown>>(f.strategies).map(
      (s): ToggleStrategy => ({
        name: str(s.name, `features[${i}].strategies[].name`) as ToggleStrategy['name'],
        parameters: Object.fromEntries(
          Object.entries((s.parameters as Record<string, unknown>) ?? {}).map(([k, v]) => [k, String(v)]),
        ),
        constraints: arr<ToggleConstraint>(s.constraints),
        ...(Array.isArray(s.segments) && { segments: s.segments as number[] }),
        ...(Array.isArray(s.variants) && { variants: s.variants as ToggleVariant[] }),
        ...(s.disabled === true && { disabled: true }),
      }),
    );
    return {
      name,
      type,
      description: typeof f.description === 'string' ? f.description : '',
      impressionData: f.impressionData === true,
      enabled: f.enabled === true,
      strategies,
      variants: arr<ToggleVariant>(f.variants),
      dependencies: arr<ToggleDependency>(f.dependencies),
    };
  });
  const segments = arr<Record<string, unknown>>(state.segments).map((s, i) => {
    if (typeof s.id !== 'number') throw new InvalidInput(`segments[${i}].id: expected a number`);
    return { id: s.id, constraints: arr<ToggleConstraint>(s.constraints) };
  });
  return { toggles, segments };
}

/** The one thing an import needs of the toggle service (a narrow port, so neither file imports the other). */
export interface ToggleStateImporter {
  importState(
    app: AppRecord,
    env: string,
    imported: ImportedToggle[],
    segments: { id: number; constraints: ToggleConstraint[] }[],
    actor: string,
  ): Promise<void>;
}

export async function importUnleashState(
  toggles: ToggleStateImporter,
  app: AppRecord,
  env: string,
  state: UnleashState,
  actor: string,
): Promise<{ imported: number; segments: number }> {
  const parsed = parseUnleashState(state);
  await toggles.importState(app, env, parsed.toggles, parsed.segments, actor);
  return { imported: parsed.toggles.length, segments: parsed.segments.length };
}
