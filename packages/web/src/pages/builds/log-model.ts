import { type AnsiSpan, type AnsiStyle, PLAIN, parseAnsi } from './ansi';

/** One line of a build log: its number (from 1), styled spans, and its plain text for search. */
export interface LogLine {
  n: number;
  spans: AnsiSpan[];
  text: string;
  /** A `==> step` header written by the server between steps. */
  step: boolean;
}

/** Longest line shown, in characters; the rest of a longer line is only in the download. */
export const LINE_CAP = 16_000;

/** Lines are kept in chunks of this many, each rendered by one element that only re-renders when it changes. */
export const CHUNK = 200;

/** Reads one line of output: its style carries over from the line before; `\r` rewrites the line. */
export function readLine(raw: string, n: number, start: AnsiStyle): { line: LogLine; style: AnsiStyle } {
  const body = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
  const cr = body.lastIndexOf('\r');
  let style = start;
  let shown = body;
  if (cr !== -1) {
    // What a terminal would show: only the text after the last carriage return, in the style then.
    style = parseAnsi(body.slice(0, cr), start).style;
    shown = body.slice(cr + 1);
  }
  const parsed = parseAnsi(shown, style);
  const text = parsed.spans.map((s) => s.text).join('');
  return { line: { n, spans: parsed.spans, text, step: /^==> \S/.test(text) }, style: parsed.style };
}

/**
 * A build log as it arrives, in bounded memory: whole lines in chunks (at most `maxLines`; the
 * oldest chunks are dropped and counted; whole chunks, so up to `maxLines` rounded up to a chunk),
 * plus the line still being written.
 */
export class LogBuffer {
  chunks: LogLine[][] = [];
  dropped = 0;
  private partial = '';
  private cut = false;
  private style: AnsiStyle = PLAIN;
  private next = 1;

  constructor(readonly maxLines = 5000) {}

  /** Adds decoded text; returns whether anything visible changed. */
  push(text: string): boolean {
    if (!text) return false;
    const parts = text.split('\n');
    const last = parts.pop() ?? '';
    for (const part of parts) {
      this.append(part);
      this.add(this.take());
    }
    this.append(last);
    return true;
  }

  /** The output ended: the unfinished last line becomes a line. */
  end(): void {
    if (this.partial) this.add(this.take());
  }

  /** Grows the line being written, up to LINE_CAP characters (a progress bar may never end its line). */
  private append(piece: string): void {
    if (this.cut || !piece) return;
    const room = LINE_CAP - this.partial.length;
    if (piece.length > room) {
      this.partial += piece.slice(0, room);
      this.cut = true;
    } else {
      this.partial += piece;
    }
  }

  private take(): string {
    const line = this.cut ? `${this.partial} … [line cut here; the download has all of it]` : this.partial;
    this.partial = '';
    this.cut = false;
    return line;
  }

  /** The line still being written (shown last, without a number of its own yet). */
  pending(): LogLine | null {
    if (!this.partial) return null;
    return readLine(this.partial, this.next, this.style).line;
  }

  get lineCount(): number {
    return this.next - 1;
  }

  lines(): LogLine[] {
    const p = this.pending();
    const all = this.chunks.flat();
    return p ? [...all, p] : all;
  }

  private add(raw: string): void {
    const { line, style } = readLine(raw, this.next++, this.style);
    this.style = style;
    const last = this.chunks[this.chunks.length - 1];
    if (last && last.length < CHUNK) {
      // A new array for the changed chunk only: the others keep their identity (and their render).
      this.chunks[this.chunks.length - 1] = [...last, line];
    } else {
      this.chunks.push([line]);
    }
    while (this.chunks.length > 1 && (this.chunks.length - 1) * CHUNK >= this.maxLines) {
      this.dropped += this.chunks.shift()?.length ?? 0;
    }
  }
}

/** Where a search matched: the line, the match's place among that line's matches, and its range. */
export interface LogMatch {
  n: number;
  k: number;
  start: number;
  end: number;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Every match of `query` (plain text, any case) in the lines, in order. */
export function findMatches(lines: readonly LogLine[], query: string): LogMatch[] {
  if (!query) return [];
  const re = new RegExp(escapeRegExp(query), 'gi');
  const out: LogMatch[] = [];
  for (const line of lines) {
    let k = 0;
    for (const m of line.text.matchAll(re)) {
      out.push({ n: line.n, k: k++, start: m.index, end: m.index + m[0].length });
    }
  }
  return out;
}

/** A piece of a line to render: its text, its style, and whether it is a search match (the current one). */
export interface LinePiece {
  text: string;
  span: AnsiSpan;
  match: 'no' | 'yes' | 'current';
}

/** Cuts a line's spans at the match ranges, so a match across two colours is still one mark. */
export function pieces(
  line: LogLine,
  ranges: readonly { start: number; end: number }[],
  current = -1,
): LinePiece[] {
  const out: LinePiece[] = [];
  let pos = 0;
  let r = 0;
  for (const span of line.spans) {
    let from = 0;
    while (from < span.text.length) {
      const at = pos + from;
      while (r < ranges.length && (ranges[r]?.end ?? 0) <= at) r++;
      const range = ranges[r];
      let to: number;
      let match: LinePiece['match'] = 'no';
      if (range && range.start <= at) {
        to = Math.min(span.text.length, range.end - pos);
        match = r === current ? 'current' : 'yes';
      } else {
        to = range ? Math.min(span.text.length, range.start - pos) : span.text.length;
      }
      out.push({ text: span.text.slice(from, to), span, match });
      from = to;
    }
    pos += span.text.length;
  }
  return out;
}
