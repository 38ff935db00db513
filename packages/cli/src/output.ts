// Escape sequences: CSI (ESC [ … final), OSC/DCS/SOS/PM/APC strings (ended by BEL or ESC \, or cut
// off at the end of the text), and the two-byte ones (ESC + one character).
const CSI = '\\x1b\\[[0-?]*[ -/]*[@-~]';
const STRING_SEQ = '\\x1b[\\]PX^_][\\s\\S]*?(?:\\x07|\\x1b\\\\|$)';
const ESCAPE = new RegExp(`${CSI}|${STRING_SEQ}|\\x1b[ -~]?`, 'g');
/** C0 controls but \t and \n, DEL, C1 controls (incl. the one-byte CSI U+009B), and bidi controls. */
const CONTROL_CLASS =
  '[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069]';
const CONTROL = new RegExp(CONTROL_CLASS, 'g');
const SGR_SEQ = '^\\x1b\\[[0-9;:]*m$';
const SGR = new RegExp(SGR_SEQ);
const CSI_AT_START = new RegExp(`^${CSI}`);
/** Every sequence and control character, in one pass (so a kept SGR keeps its ESC). */
const ANY = new RegExp(`${ESCAPE.source}|${CONTROL_CLASS}`, 'g');

/**
 * Text that came from a repository (commit messages, author and tag names, refs, errors that echo
 * them), made safe for a terminal: no escape sequence (so no title change, screen clear, cursor
 * move or hyperlink), no control character but tab and newline, no bidi override.
 * `--json` output does not need it: JSON escapes every control character.
 */
export function safeText(text: string): string {
  return text.replace(ESCAPE, '').replace(CONTROL, '');
}

/** {@link safeText} on one line: tabs and newlines become spaces. */
export function safeLine(text: string): string {
  return safeText(text).replace(/[\t\n]/g, ' ');
}

/**
 * Filters a stream of build log text for a terminal. With `colours`, SGR sequences (colours,
 * bold) stay and every other sequence goes (OSC titles and links, cursor moves, screen clears);
 * without, everything goes. A sequence split across chunks is held back until it is complete.
 */
export class TerminalFilter {
  private pending = '';

  constructor(private readonly colours: boolean) {}

  push(chunk: string): string {
    let text = this.pending + chunk;
    this.pending = '';
    // An escape sequence still open at the end waits for the next chunk (at most 4 KiB of it).
    const lastEsc = text.lastIndexOf('\x1b');
    if (lastEsc >= 0 && text.length - lastEsc < 4096 && !complete(text.slice(lastEsc))) {
      this.pending = text.slice(lastEsc);
      text = text.slice(0, lastEsc);
    } else if (text.endsWith('\r')) {
      // Half of a CRLF, or a bare CR: the next chunk tells.
      this.pending = '\r';
      text = text.slice(0, -1);
    }
    return this.clean(text);
  }

  end(): string {
    const rest = this.clean(this.pending);
    this.pending = '';
    return rest;
  }

  private clean(text: string): string {
    return text
      .replace(/\r(?!\n)/g, '\n') // a bare CR could overwrite a line with something else
      .replace(ANY, (seq) => (seq === '\r' || (this.colours && SGR.test(seq)) ? seq : ''));
  }
}

function complete(seq: string): boolean {
  if (seq.length < 2) return false;
  const kind = seq[1]!;
  if (kind === '[') return CSI_AT_START.test(seq);
  if (']PX^_'.includes(kind)) return seq.includes('\x07', 2) || seq.includes('\x1b\\', 2);
  return true;
}

/** Whether build logs keep their colours: only on a terminal, and not when NO_COLOR is set. */
export function logColours(out: NodeJS.WriteStream = process.stdout): boolean {
  return Boolean(out.isTTY) && !process.env.NO_COLOR;
}

/** Prints aligned columns (cells made safe with {@link safeLine}); `--json` callers print the raw data instead. */
export function table(rows: Record<string, string>[], columns: string[], out = process.stdout): void {
  if (rows.length === 0) {
    out.write('(none)\n');
    return;
  }
  rows = rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, safeLine(v ?? '')])));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]) =>
    `${cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd()}\n`;
  out.write(line(columns.map((c) => c.toUpperCase())));
  for (const r of rows) out.write(line(columns.map((c) => r[c] ?? '')));
}

export function printJson(data: unknown, out = process.stdout): void {
  out.write(`${JSON.stringify(data, null, 2)}\n`);
}

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${Math.round(s % 60)}s`;
  return `${Math.floor(m / 60)}h${m % 60}m`;
}

export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '';
  const d = now - Date.parse(iso);
  if (d < 60_000) return `${Math.max(0, Math.round(d / 1000))}s ago`;
  if (d < 3_600_000) return `${Math.round(d / 60_000)}m ago`;
  if (d < 86_400_000) return `${Math.round(d / 3_600_000)}h ago`;
  return `${Math.round(d / 86_400_000)}d ago`;
}

export function between(from: string | null | undefined, to: string | null | undefined): number | null {
  if (!from) return null;
  return (to ? Date.parse(to) : Date.now()) - Date.parse(from);
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/** `1 release`, `2 releases`: a count with its noun in the right number. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function short(sha: string | null | undefined): string {
  return sha ? sha.slice(0, 10) : '';
}

/** Progress for long work goes to stderr so stdout stays parseable (step names come from gantry.yaml: made safe). */
export function progress(text: string): void {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[2K${safeLine(text)}`);
  else process.stderr.write(`${safeLine(text)}\n`);
}

export function progressDone(): void {
  if (process.stderr.isTTY) process.stderr.write('\n');
}
