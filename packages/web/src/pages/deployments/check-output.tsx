import { Fragment, useMemo, useState } from 'react';
import { type AnsiSpan, type AnsiStyle, ansiClass, PLAIN, parseAnsi } from '../builds/ansi';
import '../builds/ansi.css';

/** The output's lines as styled spans; a colour set on one line carries over to the next. */
export function outputLines(output: string): AnsiSpan[][] {
  const lines: AnsiSpan[][] = [];
  let style: AnsiStyle = PLAIN;
  for (const line of output.replace(/\r?\n$/, '').split('\n')) {
    const parsed = parseAnsi(line, style);
    lines.push(parsed.spans);
    style = parsed.style;
  }
  return lines;
}

function OutputText({ output }: { output: string }) {
  const lines = useMemo(() => outputLines(output), [output]);
  return (
    // Focusable: a long output scrolls inside its box, and a keyboard must be able to scroll it.
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region is reached by keyboard
    <pre className="log check-log" tabIndex={0}>
      {lines.map((spans, n) => (
        <Fragment key={n}>
          {spans.map((s, i) => {
            const cls = ansiClass(s);
            return cls ? (
              <span key={i} className={cls}>
                {s.text}
              </span>
            ) : (
              <Fragment key={i}>{s.text}</Fragment>
            );
          })}
          {'\n'}
        </Fragment>
      ))}
    </pre>
  );
}

/**
 * A check run's output behind a disclosure, rendered on demand. Terminal colours become classes on
 * spans of plain text (the build log's reader); the rest is text, never HTML.
 */
export function CheckOutput({ output, label }: { output: string; label: string }) {
  const [open, setOpen] = useState(false);
  if (!output.trim()) return <p className="small muted">No output.</p>;
  const count = output.replace(/\r?\n$/, '').split('\n').length;
  return (
    <details className="check-output" onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>
        {label} ({count} {count === 1 ? 'line' : 'lines'})
      </summary>
      {open ? <OutputText output={output} /> : null}
    </details>
  );
}
