import { ago, RelativeTime } from './ui';

/** "in 5m" for a time still to come; "in 0s" once it has come. */
export function untilText(iso: string, now = Date.now()): string {
  return Date.parse(iso) <= now ? 'in 0s' : ago(iso, now);
}

/** A time past or to come, relative, with the exact local time on hover. */
export function TimeFromNow({ iso }: { iso: string }) {
  return <RelativeTime iso={iso} />;
}
