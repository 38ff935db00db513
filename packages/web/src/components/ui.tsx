import { type ReactNode, useEffect, useRef } from 'react';

const STATUS_TONE: Record<string, 'ok' | 'warn' | 'bad' | 'info' | 'neutral'> = {
  succeeded: 'ok',
  healthy: 'ok',
  applied: 'ok',
  resolved: 'ok',
  running: 'info',
  queued: 'info',
  scheduled: 'info',
  draft: 'neutral',
  pending: 'neutral',
  skipped: 'neutral',
  superseded: 'neutral',
  cancelled: 'neutral',
  reverted: 'warn',
  awaiting_approval: 'warn',
  interrupted: 'warn',
  unknown: 'warn',
  open: 'bad',
  failed: 'bad',
  unhealthy: 'bad',
  down: 'bad',
};

/** A status word with a colour; the word is always written, colour is never the only signal. */
export function StatusBadge({ status, label }: { status: string; label?: string }) {
  const words = label ?? (status === 'awaiting_approval' ? 'awaiting approval' : status);
  return <span className={`badge ${STATUS_TONE[status] ?? 'neutral'}`}>{words}</span>;
}

export function Badge({
  tone = 'neutral',
  children,
  title,
}: {
  tone?: string;
  children: ReactNode;
  title?: string;
}) {
  return (
    <span className={`badge ${tone}`} title={title}>
      {children}
    </span>
  );
}

export function ShortSha({ sha }: { sha: string | null | undefined }) {
  if (!sha) return <span className="muted">—</span>;
  return (
    <code className="mono" title={sha}>
      {sha.slice(0, 8)}
    </code>
  );
}

function span(s: number): string {
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

/** "5m ago" for a time past, "in 5m" for one to come (a scheduled release). */
export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '';
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return '';
  const s = Math.round((now - t) / 1000);
  return s < 0 ? `in ${span(-s)}` : `${span(s)} ago`;
}

/** A time as "5m ago" (or "in 5m"), with the exact time on hover and for assistive technology. */
export function RelativeTime({ iso }: { iso: string | null | undefined }) {
  if (!iso) return <span className="muted">—</span>;
  return (
    <time dateTime={iso} title={new Date(iso).toLocaleString()}>
      {ago(iso)}
    </time>
  );
}

export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <div className="alert" role="alert">
      {error instanceof Error ? error.message : String(error)}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="muted" aria-live="polite">
      Loading {what}…
    </p>
  );
}

/**
 * A modal dialog on the native <dialog>: the browser traps focus, Escape closes it, and focus goes
 * back to what opened it.
 */
export function Dialog({
  open,
  onClose,
  title,
  children,
}: {
  open: boolean;
  onClose: () => void;
  title: string;
  children: ReactNode;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  const titleId = `dlg-${title.replace(/\W+/g, '-').toLowerCase()}`;
  return (
    <dialog ref={ref} aria-labelledby={titleId} onClose={onClose}>
      <h2 id={titleId} style={{ marginTop: 0 }}>
        {title}
      </h2>
      {open ? children : null}
    </dialog>
  );
}
