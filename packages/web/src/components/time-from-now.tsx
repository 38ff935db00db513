import { RelativeTime } from './ui';

/** "in 5m" for a time still to come (RelativeTime in ui.tsx is for times past only). */
export function untilText(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((Date.parse(iso) - now) / 1000));
  if (s < 60) return `in ${s}s`;
  if (s < 3600) return `in ${Math.floor(s / 60)}m`;
  if (s < 86_400) return `in ${Math.floor(s / 3600)}h`;
  return `in ${Math.floor(s / 86_400)}d`;
}

/** A time past or to come, relative, with the exact local time on hover. */
export function TimeFromNow({ iso }: { iso: string }) {
  if (Date.parse(iso) <= Date.now()) return <RelativeTime iso={iso} />;
  return (
    <time dateTime={iso} title={new Date(iso).toLocaleString()}>
      {untilText(iso)}
    </time>
  );
}
