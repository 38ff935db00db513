/**
 * A multi-line error (a build's, a deployment's) as one line that still says why: the first line,
 * and when it only introduces what follows (`gantry.yaml is not valid:`), the first line after it;
 * for a step's `…; last lines:` the last line the step wrote. Long results are cut at `max`.
 *
 * @example
 * errorSummary('gantry.yaml is not valid:\ngantry.yaml:3:5: build.steps: expected an array');
 * // 'gantry.yaml is not valid: gantry.yaml:3:5: build.steps: expected an array'
 */
export function errorSummary(error: string | null | undefined, max = 160): string {
  const lines = (error ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const first = lines[0] ?? '';
  let out = first;
  if (/; last lines:$/.test(first)) {
    const last = lines.at(-1);
    out = first.replace(/; last lines:$/, '') + (lines.length > 1 && last ? `: ${last}` : '');
  } else if (first.endsWith(':') && lines[1]) {
    out = `${first} ${lines[1]}${lines.length > 2 ? ` (+${lines.length - 2} more)` : ''}`;
  }
  return out.length > max ? `${out.slice(0, max - 1)}…` : out;
}
