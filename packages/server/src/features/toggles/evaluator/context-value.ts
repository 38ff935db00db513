import type { ToggleContext } from './toggle-types.js';

/** unleash-client's `resolveContextValue`: a top-level field wins over `properties`, and values are stringified. */
export function contextValue(context: ToggleContext, field: string): string | undefined {
  const value = context[field] ?? context.properties?.[field];
  return value !== undefined && value !== null ? String(value) : undefined;
}
