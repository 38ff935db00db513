import { z } from 'zod';
import { closestWord } from './config-issues.js';

const typePhrases: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a map',
  record: 'a map',
};

/** What a value is, in YAML words: `number`, `list`, `map`, `null`… */
export function valueKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'object') return 'map';
  return typeof value;
}

function described(issue: z.core.$ZodRawIssue): string | undefined {
  // Checks such as .min() are not in the registry, so looking one up just finds nothing.
  const schema = (issue.schema ?? issue.inst) as z.core.$ZodType | undefined;
  return schema ? z.globalRegistry.get(schema)?.description : undefined;
}

const aside = (text: string | undefined) => (text ? ` (${text})` : '');

/**
 * A zod error map that says what was expected and what was found, quoting each schema's
 * description, and records the keys every strict object accepts for "did you mean" hints.
 *
 * @example
 * const { errorMap } = createIssueMessages();
 * schema.safeParse(data, { error: errorMap, reportInput: true });
 */
export function createIssueMessages() {
  const knownKeys = new Map<string, string[]>();
  const errorMap = (issue: z.core.$ZodRawIssue): string | undefined => {
    const about = described(issue);
    const input = issue.input;
    switch (issue.code) {
      case 'invalid_type': {
        const key = issue.path?.at(-1);
        if (input === undefined && key !== undefined)
          return `missing required key "${String(key)}"${aside(about)}`;
        const got = issue.expected === 'int' && typeof input === 'number' ? String(input) : valueKind(input);
        return `expected ${typePhrases[issue.expected] ?? issue.expected}${aside(about)}, got ${got}`;
      }
      case 'invalid_union':
        return about ? `expected ${about}, got ${valueKind(input)}` : undefined;
      case 'invalid_value': {
        const options = issue.values.map((v) => JSON.stringify(v));
        const guess = typeof input === 'string' ? closestWord(input, issue.values.map(String)) : undefined;
        const hint = guess === undefined ? '' : `; did you mean "${guess}"?`;
        return `expected one of ${options.join(', ')}, got ${JSON.stringify(input)}${hint}`;
      }
      case 'too_small':
        if (issue.origin === 'array')
          return `expected at least ${issue.minimum} item${aside(about)}, got an empty list`;
        if (issue.origin === 'string') return `expected a non-empty string${aside(about)}`;
        return `expected a number ${issue.inclusive ? '≥' : '>'} ${issue.minimum}${aside(about)}, got ${String(input)}`;
      case 'too_big':
        return `expected a number ${issue.inclusive ? '≤' : '<'} ${issue.maximum}${aside(about)}, got ${String(input)}`;
      case 'unrecognized_keys':
        if (issue.inst instanceof z.ZodObject)
          knownKeys.set(pathKey(issue.path ?? []), Object.keys(issue.inst.shape));
        return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
      default:
        return undefined;
    }
  };
  return { errorMap, knownKeys };
}

export function pathKey(path: readonly PropertyKey[]): string {
  return JSON.stringify(path.map(String));
}
