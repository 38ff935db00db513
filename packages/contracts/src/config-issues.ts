/** One problem in a configuration file, with the 1-based position of the offending node. */
export interface ConfigIssue {
  file: string;
  line: number;
  column: number;
  /** Where in the document, e.g. `build.steps[1].run`; empty for the document as a whole. */
  path: string;
  message: string;
}

/**
 * Formats an issue the way compilers do, so editors and terminals can jump to it.
 *
 * @example
 * formatConfigIssue({ file: 'gantry.yaml', line: 3, column: 5, path: 'build.steps[0].run', message: 'expected a string' });
 * // 'gantry.yaml:3:5: build.steps[0].run: expected a string'
 */
export function formatConfigIssue(issue: ConfigIssue): string {
  const where = `${issue.file}:${issue.line}:${issue.column}`;
  return issue.path ? `${where}: ${issue.path}: ${issue.message}` : `${where}: ${issue.message}`;
}

/**
 * Writes a document path as people read it: dotted keys, bracketed indexes, quoted odd keys.
 *
 * @example
 * formatPath(['build', 'steps', 1, 'run']); // 'build.steps[1].run'
 * formatPath(['environments', 'qa', 'config', 'a.b']); // 'environments.qa.config["a.b"]'
 */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(String(segment)))
      out += out ? `.${String(segment)}` : String(segment);
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out;
}

/**
 * The known word a typo most likely meant, if any is close enough to suggest.
 *
 * @example
 * closestWord('tiemout', ['timeout', 'mode']); // 'timeout'
 * closestWord('autoDeploy', ['auto_deploy']); // 'auto_deploy'
 */
export function closestWord(word: string, known: readonly string[]): string | undefined {
  const squash = (s: string) => s.toLowerCase().replace(/[-_\s]/g, '');
  const same = known.find((k) => squash(k) === squash(word));
  if (same !== undefined) return same;
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const k of known) {
    const d = editDistance(word.toLowerCase(), k.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  if (best !== undefined && bestDistance <= (word.length <= 4 ? 1 : 2)) return best;
  return word.length >= 3 ? known.find((k) => k.startsWith(word)) : undefined;
}

/** Optimal string alignment distance: a swap of two neighbours counts as one edit. */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const row = d[i]!;
      row[j] = Math.min(d[i - 1]![j]! + 1, row[j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        row[j] = Math.min(row[j]!, d[i - 2]![j - 2]! + 1);
      }
    }
  }
  return d[a.length]![b.length]!;
}
