import { Fragment, memo, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { ApiError } from '../../api/client';
import { ansiClass } from './ansi';
import './ansi.css';
import { findMatches, LogBuffer, type LogLine, type LogMatch, pieces } from './log-model';

/** Lines kept on the page; the rest is in the download. */
export const MAX_LINES = 5000;

type Phase = { kind: 'reading' } | { kind: 'done' } | { kind: 'failed'; error: Error };

/** One line: ANSI styles as classes on spans of plain text (text nodes only, never HTML). */
function LineView({ line, ranges, current }: { line: LogLine; ranges: LogMatch[]; current: number }) {
  const ps = ranges.length
    ? pieces(line, ranges, current)
    : line.spans.map((span) => ({ text: span.text, span, match: 'no' as const }));
  return (
    <div
      className={line.step ? 'log-line log-step' : 'log-line'}
      data-n={line.n}
      data-step={line.step ? line.text.slice(4) : undefined}
    >
      {ps.map((p, i) => {
        const cls = ansiClass(p.span);
        const inner = cls ? <span className={cls}>{p.text}</span> : p.text;
        if (p.match === 'no') return <Fragment key={i}>{inner}</Fragment>;
        return (
          <mark key={i} className={p.match === 'current' ? 'current' : undefined}>
            {inner}
          </mark>
        );
      })}
    </div>
  );
}

/** A chunk of lines: re-rendered only when its lines, the search, or the current match in it change. */
const Chunk = memo(function Chunk({
  lines,
  query,
  current,
}: {
  lines: LogLine[];
  query: string;
  current: LogMatch | null;
}) {
  const byLine = useMemo(() => {
    const m = new Map<number, LogMatch[]>();
    for (const x of findMatches(lines, query)) m.set(x.n, [...(m.get(x.n) ?? []), x]);
    return m;
  }, [lines, query]);
  return (
    <div className="log-chunk">
      {lines.map((l) => (
        <LineView
          key={l.n}
          line={l}
          ranges={byLine.get(l.n) ?? []}
          current={current && current.n === l.n ? current.k : -1}
        />
      ))}
    </div>
  );
});

async function readError(res: Response): Promise<ApiError> {
  const body = (await res.json().catch(() => null)) as { message?: string } | null;
  return new ApiError(res.status, body?.message ?? `${res.status} ${res.statusText}`);
}

/**
 * A build's log: streamed while the build runs (follow mode scrolls along, and pauses when the
 * reader scrolls up), searchable, downloadable whole. Keeps at most MAX_LINES lines on the page.
 */
export function BuildLog({
  buildId,
  running,
  maxLines = MAX_LINES,
}: {
  buildId: string;
  running: boolean;
  maxLines?: number;
}) {
  const url = `/api/builds/${encodeURIComponent(buildId)}/logs`;
  const buffer = useRef(new LogBuffer(maxLines));
  const [version, setVersion] = useState(0);
  const [phase, setPhase] = useState<Phase>({ kind: 'reading' });
  const [follow, setFollow] = useState(true);
  const [query, setQuery] = useState('');
  const [index, setIndex] = useState(0);
  const [attempt, setAttempt] = useState(0);
  const box = useRef<HTMLDivElement>(null);
  const autoTop = useRef(0);
  // Whether to follow is decided when reading starts: a finished build's log is read once.
  const followStream = useRef(running);
  followStream.current = running;

  useEffect(() => {
    void attempt;
    const ac = new AbortController();
    const buf = new LogBuffer(maxLines);
    buffer.current = buf;
    setVersion((v) => v + 1);
    setPhase({ kind: 'reading' });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const bump = () => {
      timer ??= setTimeout(() => {
        timer = undefined;
        setVersion((v) => v + 1);
      }, 40);
    };
    (async () => {
      const res = await fetch(followStream.current ? `${url}?follow=true` : url, {
        signal: ac.signal,
        credentials: 'same-origin',
      });
      if (!res.ok || !res.body) throw await readError(res);
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (buf.push(decoder.decode(value, { stream: true }))) bump();
      }
      buf.push(decoder.decode());
      buf.end();
      setVersion((v) => v + 1);
      setPhase({ kind: 'done' });
    })().catch((e: unknown) => {
      if (ac.signal.aborted) return;
      buf.end();
      setVersion((v) => v + 1);
      setPhase({ kind: 'failed', error: e instanceof Error ? e : new Error(String(e)) });
    });
    return () => {
      ac.abort();
      if (timer) clearTimeout(timer);
    };
  }, [url, attempt, maxLines]);

  const buf = buffer.current;
  // The buffer changes in place; `version` says when.
  const all = useMemo(() => buf.lines(), [buf, version]);
  const matches = useMemo(() => findMatches(all, query), [all, query]);
  const cur = matches.length ? Math.min(index, matches.length - 1) : -1;
  const current = cur >= 0 ? (matches[cur] ?? null) : null;
  const pending = buf.pending();

  // Follow: keep the newest line in view.
  useLayoutEffect(() => {
    const el = box.current;
    if (!el || !follow) return;
    el.scrollTop = el.scrollHeight;
    autoTop.current = el.scrollTop;
  }, [version, follow]);

  // The current match in view (this pauses following).
  const currentKey = current ? `${current.n}:${current.k}` : '';
  useEffect(() => {
    if (!currentKey) return;
    box.current?.querySelector('mark.current')?.scrollIntoView({ block: 'center' });
  }, [currentKey]);

  const onScroll = () => {
    const el = box.current;
    if (!el) return;
    // Scrolled up from where following put it: the reader wants to stay there (the toggle resumes).
    if (el.scrollTop < autoTop.current - 4) setFollow(false);
  };

  const go = (step: number) => {
    if (!matches.length) return;
    setFollow(false);
    setIndex((cur + step + matches.length) % matches.length);
  };

  const chunks = buf.chunks;
  return (
    <section aria-labelledby="build-log-heading" className="build-log-section">
      <h2 id="build-log-heading">Log</h2>
      <div className="log-toolbar">
        <button type="button" aria-pressed={follow} onClick={() => setFollow(!follow)}>
          Follow
        </button>
        <search>
          <form
            className="log-search"
            onSubmit={(e) => {
              e.preventDefault();
              go(1);
            }}
          >
            <label htmlFor="log-search" className="visually-hidden">
              Search the log
            </label>
            <input
              id="log-search"
              type="search"
              placeholder="Search the log"
              value={query}
              onChange={(e) => {
                setQuery(e.target.value);
                setIndex(0);
              }}
              onKeyDown={(e) => {
                if (e.key === 'Enter' && e.shiftKey) {
                  e.preventDefault();
                  go(-1);
                }
              }}
            />
            <span className="small log-count" aria-live="polite" data-testid="log-match-count">
              {query ? (matches.length ? `${cur + 1} of ${matches.length}` : 'no match') : ''}
            </span>
            <button
              type="button"
              onClick={() => go(-1)}
              disabled={!matches.length}
              aria-label="Previous match"
            >
              ↑
            </button>
            <button type="submit" disabled={!matches.length} aria-label="Next match">
              ↓
            </button>
          </form>
        </search>
        <a className="button" href={url} download={`build-${buildId}.log`}>
          Download the raw log
        </a>
      </div>
      {buf.dropped > 0 ? (
        <p className="notice small">
          The first {buf.dropped.toLocaleString()} lines are not shown here, to keep the page fast; download
          the raw log to read them all.
        </p>
      ) : null}
      <div
        ref={box}
        className="log build-log"
        role="log"
        aria-live="off"
        aria-label="Build log"
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region is reached with the keyboard
        tabIndex={0}
        onScroll={onScroll}
      >
        {chunks.map((c) => (
          <Chunk
            key={c[0]?.n ?? 0}
            lines={c}
            query={query}
            current={
              current && c[0] && current.n >= c[0].n && current.n <= (c.at(-1)?.n ?? 0) ? current : null
            }
          />
        ))}
        {pending ? (
          <LineView
            line={pending}
            ranges={matches.filter((m) => m.n === pending.n)}
            current={current?.n === pending.n ? current.k : -1}
          />
        ) : null}
        {all.length === 0 && phase.kind !== 'reading' ? <div className="log-empty">(no output)</div> : null}
      </div>
      <p className="small muted" aria-live="polite">
        {phase.kind === 'reading'
          ? running
            ? 'Reading the output as the build writes it…'
            : 'Reading the log…'
          : phase.kind === 'done'
            ? `${buf.lineCount.toLocaleString()} lines.`
            : null}
      </p>
      {phase.kind === 'failed' ? (
        <div className="alert" role="alert">
          The log stopped: {phase.error.message}{' '}
          <button type="button" onClick={() => setAttempt((a) => a + 1)}>
            Read it again
          </button>
        </div>
      ) : null}
    </section>
  );
}
