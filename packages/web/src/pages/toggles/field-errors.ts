/**
 * Places the server's validation errors beside the fields they concern. The server answers 400 with
 * `details: [{ path, message }]` for a request that does not fit its schema (path `/strategies/0/…`
 * or `strategies.0.…`), and with a message that starts with where it is (`strategies[0]
 * (flexibleRollout): rollout must be …`, `variants: …`) for a rule its schema cannot express.
 */
export interface FieldError {
  /** Dotted: `strategies.0.parameters.rollout`, `variants.1.weight`, or '' when it names no field. */
  key: string;
  message: string;
}

/** A server path in any of its spellings as a dotted key: `/body/strategies/0/x` → `strategies.0.x`. */
export function normalizePath(path: string): string {
  const parts = path
    .replace(/\[(\d+)\]/g, '.$1')
    .split(/[./]/)
    .filter(Boolean);
  if (parts[0] === 'body') parts.shift();
  return parts.join('.');
}

const PARAM_IN_MESSAGE: [RegExp, string][] = [
  [/^rollout must/, 'parameters.rollout'],
  [/^percentage must/, 'parameters.percentage'],
  [/needs parameters\.(\w+)/, 'parameters.$1'],
  [/^segment \d+ does not exist/, 'segments'],
];

/** Where a rule's message says it is: `strategies[0] (x).constraints[1]: …` → `strategies.0.constraints.1`. */
export function keyOfMessage(message: string): string {
  const m =
    /^((?:strategies|variants)(?:\[\d+\])?(?: \([^)]*\))?(?:\.(?:constraints|variants)(?:\[\d+\])?)*)\s*: (.*)$/s.exec(
      message,
    );
  if (!m) return '';
  const key = normalizePath(m[1]!.replace(/ \([^)]*\)/g, ''));
  const rest = m[2]!;
  if (/^strategies\.\d+$/.test(key)) {
    for (const [re, field] of PARAM_IN_MESSAGE) {
      const hit = re.exec(rest);
      if (hit) return `${key}.${field.replace('$1', hit[1] ?? '')}`;
    }
  }
  return key;
}

/** The field errors of an API error (ApiError-like: `message`, optional `details`). */
export function fieldErrors(error: unknown): FieldError[] {
  if (!error || typeof error !== 'object') return [];
  const { message, details } = error as { message?: unknown; details?: unknown };
  if (Array.isArray(details)) {
    const out = details
      .filter((d): d is { path?: unknown; message?: unknown } => !!d && typeof d === 'object')
      .map((d) => ({
        key: normalizePath(typeof d.path === 'string' ? d.path : ''),
        message: typeof d.message === 'string' ? d.message : String(message ?? ''),
      }));
    if (out.length) return out;
  }
  if (typeof message !== 'string') return [];
  return [{ key: keyOfMessage(message), message }];
}

/**
 * Each error at the most specific field shown that contains it (`strategies.0.constraints.1.values`
 * goes to `strategies.0.constraints.1` when that is the field); the rest are for the form as a whole.
 */
export function placeErrors(
  errors: FieldError[],
  fields: Iterable<string>,
): { at: Map<string, string[]>; rest: string[] } {
  const known = [...fields].sort((a, b) => b.length - a.length);
  const at = new Map<string, string[]>();
  const rest: string[] = [];
  for (const e of errors) {
    const field = known.find((f) => f && (e.key === f || e.key.startsWith(`${f}.`)));
    if (field === undefined) rest.push(e.message);
    else at.set(field, [...(at.get(field) ?? []), e.message]);
  }
  return { at, rest };
}
