import { closestWord, eventTypes } from '@gantry/contracts';
import { InvalidInput } from '../../errors.js';

/**
 * What a webhook gets when it names no events: what people act on, not every step and phase.
 * Prefixes that match nothing yet (checks and reverts arrive with issue 14) simply match nothing.
 */
export const DEFAULT_EVENT_FILTER = [
  'build.failed',
  'deployment.succeeded',
  'deployment.failed',
  'deployment.rejected',
  'deployment.verified',
  'deployment.check_failed',
  'revert.*',
  'incident.*',
];

const known: readonly string[] = eventTypes;
const prefixes = [
  ...new Set(
    known.flatMap((t) =>
      t
        .split('.')
        .slice(0, -1)
        .map((_, i, parts) => parts.slice(0, i + 1).join('.')),
    ),
  ),
];

/**
 * Checks a webhook's event filter: each entry an event type (`incident.opened`), a prefix ending in
 * `.*` (`deployment.*`, `build.step.*`) or `*` for every event. A typo is refused with the closest name.
 *
 * @example
 * checkEventFilter(['deployment.*', 'incident.opened']); // ['deployment.*', 'incident.opened']
 * checkEventFilter(['deploymnet.failed']); // InvalidInput: … did you mean "deployment.failed"?
 */
export function checkEventFilter(filter: readonly string[]): string[] {
  if (filter.length === 0)
    throw new InvalidInput('events: name at least one event type or prefix, or "*" for all');
  const out: string[] = [];
  for (const raw of filter) {
    const entry = raw.trim();
    if (entry === '*' || known.includes(entry)) {
      out.push(entry);
      continue;
    }
    if (entry.endsWith('.*') && prefixes.includes(entry.slice(0, -2))) {
      out.push(entry);
      continue;
    }
    const guess = prefixes.includes(entry)
      ? `${entry}.*`
      : entry.endsWith('.*')
        ? closestWord(entry.slice(0, -2), prefixes)?.concat('.*')
        : (closestWord(entry, known) ?? closestWord(entry, prefixes)?.concat('.*'));
    throw new InvalidInput(
      `events: "${entry}" is not an event type${entry.endsWith('.*') ? ' prefix' : ''}` +
        (guess ? `; did you mean "${guess}"?` : '; see the event types in docs/notifications.md') +
        ' (a prefix ends in ".*", e.g. "deployment.*"; "*" is every event)',
      { field: 'events', value: entry, ...(guess && { suggestion: guess }) },
    );
  }
  return [...new Set(out)];
}

/** Whether an event type passes a (checked) filter. */
export function matchesFilter(filter: readonly string[], type: string): boolean {
  return filter.some((f) => f === '*' || f === type || (f.endsWith('.*') && type.startsWith(f.slice(0, -1))));
}
