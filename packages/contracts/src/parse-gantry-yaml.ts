import { LineCounter, parseDocument, type YAMLError } from 'yaml';
import type { z } from 'zod';
import { type ConfigIssue, closestWord, formatPath } from './config-issues.js';
import {
  buildSchema,
  environmentSchema,
  type GantryYaml,
  gantryYamlSchema,
  revertConfigSchema,
  runSchema,
  tagsSchema,
} from './gantry-yaml.js';
import { createIssueMessages, pathKey } from './issue-messages.js';
import { locatePath } from './yaml-locate.js';

export interface GantryYamlResult {
  /** Present only when there are no errors. */
  config?: GantryYaml;
  errors: ConfigIssue[];
  warnings: ConfigIssue[];
}

const example = 'build: { steps: [{ name: test, run: npm test }], artifact: { path: dist } }';
const environmentKeys = Object.keys(environmentSchema.shape);
const sectionKeys: [section: string, keys: string[]][] = [
  ['build', Object.keys(buildSchema.shape)],
  ['run', Object.keys(runSchema.shape)],
  ['environments.<name>', environmentKeys],
  ['tags', Object.keys(tagsSchema.shape)],
  ['revert', Object.keys(revertConfigSchema.shape)],
];

/**
 * Parses and validates gantry.yaml text. Every syntax and schema error carries the file, the
 * 1-based line and column of the offending node, its path and what was expected.
 *
 * @example
 * const { config, errors } = parseGantryYaml(readFileSync('gantry.yaml', 'utf8'));
 * for (const e of errors) console.error(formatConfigIssue(e));
 */
export function parseGantryYaml(text: string, file = 'gantry.yaml'): GantryYamlResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const fromYaml = (e: YAMLError): ConfigIssue => {
    const { line, col } = lineCounter.linePos(e.pos[0]);
    const message =
      e.code === 'MULTIPLE_DOCS'
        ? 'expected one YAML document; remove this "---" and what follows it'
        : e.message;
    return { file, line, column: col, path: '', message };
  };
  const warnings = doc.warnings.map(fromYaml);
  if (doc.errors.length > 0) return { errors: doc.errors.map(fromYaml), warnings };
  const whole = (message: string): GantryYamlResult => ({
    errors: [{ file, line: 1, column: 1, path: '', message }],
    warnings,
  });
  let data: unknown;
  try {
    data = doc.toJS();
  } catch (error) {
    return whole((error as Error).message);
  }
  if (data === null || data === undefined) {
    return whole(`the file is empty; add at least a build section, e.g. ${example}`);
  }
  const at = (path: readonly PropertyKey[], target: 'key' | 'value' = 'value') => ({
    file,
    ...locatePath(doc, lineCounter, path, target),
    path: formatPath(path),
  });
  // A NUL byte would cut a value short wherever it reaches C (exec, git, file names): refused outright.
  const nuls = nulBytes(data, []).map(([path, target]) => ({
    ...at(path, target),
    message: `a NUL byte (\\0) in this ${target === 'key' ? 'key' : 'value'}; remove it`,
  }));
  if (nuls.length > 0) return { errors: sortIssues(nuls), warnings };
  const { errorMap, knownKeys } = createIssueMessages();
  const result = gantryYamlSchema.safeParse(data, { error: errorMap, reportInput: true });
  if (result.success) {
    return {
      config: result.data,
      errors: [],
      warnings: sortIssues([...warnings, ...configWarnings(result.data, at)]),
    };
  }
  const errors = toConfigIssues(result.error.issues, data, knownKeys, at);
  return { errors: sortIssues(errors), warnings };
}

type Locate = (path: readonly PropertyKey[], target?: 'key' | 'value') => Omit<ConfigIssue, 'message'>;

function toConfigIssues(
  issues: readonly z.core.$ZodIssue[],
  data: unknown,
  knownKeys: Map<string, string[]>,
  at: Locate,
): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  // A key that is itself invalid already says what is wrong; what lies under it is noise.
  const badKeys = issues.filter((i) => i.code === 'invalid_key').map((i) => i.path);
  const underBadKey = (path: readonly PropertyKey[]) =>
    badKeys.some((bad) => bad.length <= path.length && pathKey(path.slice(0, bad.length)) === pathKey(bad));
  for (const issue of issues) {
    const path = issue.path;
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeys.get(pathKey(path)) ?? [];
      for (const key of issue.keys) {
        out.push({ ...at([...path, key], 'key'), message: unknownKeyMessage(key, known, path) });
      }
    } else if (issue.code === 'invalid_key') {
      const inner = issue.issues.map((i) => i.message).join('; ');
      out.push({ ...at(path, 'key'), message: misplacedSetting(path) ?? inner });
    } else if (!underBadKey(path)) {
      const missing = issue.code === 'invalid_type' && path.length > 0 && valueAt(data, path) === undefined;
      if (missing) out.push({ ...at(path.slice(0, -1)), message: issue.message });
      else out.push({ ...at(path), message: misplacedSetting(path) ?? issue.message });
    }
  }
  return out;
}

function unknownKeyMessage(key: string, known: string[], path: readonly PropertyKey[]): string {
  const guess = closestWord(key, known);
  if (guess !== undefined) return `unknown key "${key}"; did you mean "${guess}"?`;
  const here = path.length === 0 ? '' : path[0] === 'environments' ? 'environments.<name>' : formatPath(path);
  const home = sectionKeys.find(([section, keys]) => section !== here && keys.includes(key));
  if (home) return `unknown key "${key}" here; it belongs under ${home[0]} (${home[0]}.${key})`;
  return `unknown key "${key}"; expected one of: ${known.join(', ')}`;
}

/** A setting written straight under environments, where an environment name belongs. */
function misplacedSetting(path: readonly PropertyKey[]): string | undefined {
  const [section, name] = path.map(String);
  if (section !== 'environments' || path.length !== 2 || !environmentKeys.includes(name!)) return undefined;
  return `"${name}" is an environment setting, not an environment name; put it under one, e.g. environments: { qa: { ${name}: … } }`;
}

/** Paths of every key and string value that holds a NUL byte. */
function nulBytes(data: unknown, path: PropertyKey[]): [PropertyKey[], 'key' | 'value'][] {
  if (typeof data === 'string') return data.includes('\0') ? [[path, 'value']] : [];
  if (data === null || typeof data !== 'object') return [];
  const out: [PropertyKey[], 'key' | 'value'][] = [];
  for (const [key, value] of Object.entries(data)) {
    const at = [...path, Array.isArray(data) ? Number(key) : key];
    if (key.includes('\0')) out.push([at, 'key']);
    out.push(...nulBytes(value, at));
  }
  return out;
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let value = data;
  for (const segment of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[segment];
  }
  return value;
}

function configWarnings(config: GantryYaml, at: Locate): ConfigIssue[] {
  const warnings: ConfigIssue[] = [];
  for (const [name, env] of Object.entries(config.environments)) {
    const scripts = (['deploy', 'health', 'stop'] as const).filter((k) => env[k] !== undefined);
    if (env.driver !== 'command' && scripts.length > 0) {
      warnings.push({
        ...at(['environments', name, scripts[0]!]),
        message: `${scripts.join(', ')} ${scripts.length > 1 ? 'are' : 'is'} only used by the command driver; this environment uses the ${env.driver} driver, so ${scripts.length > 1 ? 'they are' : 'it is'} ignored`,
      });
    }
    if (env.driver === 'process' && config.build.image) {
      warnings.push({
        ...at(['environments', name]),
        message:
          'the process driver runs tar.gz artifacts, but build.image makes this artifact an image; use driver: container',
      });
    } else if (env.driver === 'process' && config.run === undefined) {
      warnings.push({
        ...at(['environments', name]),
        message:
          'the process driver starts the artifact with run.command, but there is no run section; add e.g. run: { command: node server.js }',
      });
    }
  }
  const image = config.build.image;
  if (image && image.base === undefined && config.run?.command !== undefined) {
    warnings.push({
      ...at(['run', 'command']),
      message:
        "run.command is not used when a Dockerfile builds the image: the image's own ENTRYPOINT/CMD runs; set CMD in the Dockerfile, or remove run.command",
    });
  }
  return warnings;
}

function sortIssues(issues: ConfigIssue[]): ConfigIssue[] {
  return issues.sort((a, b) => a.line - b.line || a.column - b.column);
}
