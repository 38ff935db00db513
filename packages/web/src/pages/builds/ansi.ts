/**
 * A small, safe reader of terminal output: SGR colour and bold sequences become styled spans,
 * every other escape sequence (cursor moves, OSC titles and links, DCS …) and control character is
 * dropped. It returns plain strings for text nodes only; nothing here is ever parsed as HTML.
 */

export const ANSI_COLOURS = ['black', 'red', 'green', 'yellow', 'blue', 'magenta', 'cyan', 'white'] as const;
export type AnsiColour = (typeof ANSI_COLOURS)[number];

/** The pen a span is written with: a foreground colour (bright or not) and bold. */
export interface AnsiStyle {
  fg: AnsiColour | null;
  bright: boolean;
  bold: boolean;
}

export interface AnsiSpan extends AnsiStyle {
  text: string;
}

export const PLAIN: AnsiStyle = Object.freeze({ fg: null, bright: false, bold: false });

/** The CSS classes of a span's style (builds.css colours them for the log's dark background). */
export function ansiClass(s: AnsiStyle): string {
  const cls: string[] = [];
  if (s.fg) cls.push(`ansi-${s.bright ? 'bright-' : ''}${s.fg}`);
  if (s.bold) cls.push('ansi-bold');
  return cls.join(' ');
}

const ESC = '\x1b';
const BEL = '\x07';

/** Applies one SGR sequence's parameters ("1;32", "", "38;5;208") to a style. */
function applySgr(params: string, style: AnsiStyle): AnsiStyle {
  let s = { ...style };
  const codes = params === '' ? [0] : params.split(/[;:]/).map((p) => (p === '' ? 0 : Number(p)));
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i] ?? 0;
    if (c === 0) s = { ...PLAIN };
    else if (c === 1) s.bold = true;
    else if (c === 22) s.bold = false;
    else if (c >= 30 && c <= 37) s = { ...s, fg: ANSI_COLOURS[c - 30] ?? null, bright: false };
    else if (c >= 90 && c <= 97) s = { ...s, fg: ANSI_COLOURS[c - 90] ?? null, bright: true };
    else if (c === 39) s = { ...s, fg: null, bright: false };
    else if (c === 38 || c === 48 || c === 58) {
      // Extended colours: skip their arguments so "38;5;31" does not read as red.
      const mode = codes[i + 1];
      i += mode === 5 ? 2 : mode === 2 ? 4 : 1;
    }
    // Anything else (background, italic, underline, blink …) is ignored.
  }
  return s;
}

/** Index just past a string terminated by BEL or ESC \ (OSC, DCS, …), or the end when unterminated. */
function skipToStringTerminator(input: string, from: number): number {
  for (let i = from; i < input.length; i++) {
    const ch = input[i];
    if (ch === BEL || ch === '\x9c') return i + 1;
    if (ch === ESC && input[i + 1] === '\\') return i + 2;
  }
  return input.length;
}

function isControl(code: number): boolean {
  // C0 controls but tab; DEL; C1 controls.
  return (code < 0x20 && code !== 0x09) || code === 0x7f || (code >= 0x80 && code < 0xa0);
}

/**
 * Splits `input` into styled spans, starting from `start` (a colour may carry over from the line
 * before), and returns the style in force at its end.
 */
export function parseAnsi(input: string, start: AnsiStyle = PLAIN): { spans: AnsiSpan[]; style: AnsiStyle } {
  const spans: AnsiSpan[] = [];
  let style = start;
  let text = '';
  const flush = () => {
    if (!text) return;
    const last = spans[spans.length - 1];
    if (last && last.fg === style.fg && last.bright === style.bright && last.bold === style.bold)
      last.text += text;
    else spans.push({ ...style, text });
    text = '';
  };
  let i = 0;
  while (i < input.length) {
    const ch = input[i] as string;
    const code = ch.charCodeAt(0);
    if (ch === ESC || code === 0x9b || code === 0x9d || code === 0x90) {
      // Normalise the 8-bit introducers to their 7-bit forms.
      const kind = ch === ESC ? input[i + 1] : code === 0x9b ? '[' : code === 0x9d ? ']' : 'P';
      const body = ch === ESC ? i + 2 : i + 1;
      if (kind === '[') {
        // CSI: parameter bytes 0x30–0x3F, intermediates 0x20–0x2F, one final byte 0x40–0x7E.
        let j = body;
        while (j < input.length && /[\x30-\x3f]/.test(input[j] as string)) j++;
        const params = input.slice(body, j);
        while (j < input.length && /[\x20-\x2f]/.test(input[j] as string)) j++;
        const final = input[j];
        if (final !== undefined && /[\x40-\x7e]/.test(final)) {
          if (final === 'm' && /^[\d;:]*$/.test(params)) {
            flush();
            style = applySgr(params, style);
          }
          i = j + 1;
        } else {
          i = j; // an unfinished sequence: drop what was read of it
        }
      } else if (kind === ']' || kind === 'P' || kind === 'X' || kind === '^' || kind === '_') {
        i = skipToStringTerminator(input, body);
      } else if (kind === undefined) {
        i = body - 1;
      } else {
        // Other escapes: ESC, intermediates 0x20–0x2F, then one final byte (e.g. ESC ( B, ESC 7).
        let j = body - 1;
        while (j < input.length && /[\x20-\x2f]/.test(input[j] as string)) j++;
        i = Math.min(j + 1, input.length);
      }
      continue;
    }
    if (isControl(code)) {
      i++;
      continue;
    }
    text += ch;
    i++;
  }
  flush();
  return { spans, style };
}

/** The text without any escape sequence or control character. */
export function stripAnsi(input: string): string {
  return parseAnsi(input)
    .spans.map((s) => s.text)
    .join('');
}
