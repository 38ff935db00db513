import { describe, expect, it } from 'vitest';
import { ansiClass, PLAIN, parseAnsi, stripAnsi } from '../../src/pages/builds/ansi';
import { findMatches, LINE_CAP, LogBuffer, pieces, readLine } from '../../src/pages/builds/log-model';

const ESC = '\x1b';

describe('the ANSI reader', () => {
  it('turns foreground colours (30–37, 90–97) into spans and 39 back to the default', () => {
    const { spans } = parseAnsi(`a${ESC}[31mred${ESC}[92mbright${ESC}[39mplain`);
    expect(spans.map((s) => [s.text, ansiClass(s)])).toEqual([
      ['a', ''],
      ['red', 'ansi-red'],
      ['bright', 'ansi-bright-green'],
      ['plain', ''],
    ]);
  });

  it('reads bold, combined parameters and resets (0 and the empty parameter)', () => {
    const { spans, style } = parseAnsi(`${ESC}[1;33mwarn${ESC}[0m ok ${ESC}[1mB${ESC}[mX`);
    expect(spans.map((s) => [s.text, ansiClass(s)])).toEqual([
      ['warn', 'ansi-yellow ansi-bold'],
      [' ok ', ''],
      ['B', 'ansi-bold'],
      ['X', ''],
    ]);
    expect(style).toEqual(PLAIN);
  });

  it('carries the style from one line into the next', () => {
    const first = parseAnsi(`${ESC}[34mstarts blue`);
    const second = parseAnsi('still blue', first.style);
    expect(ansiClass(second.spans[0] ?? PLAIN)).toBe('ansi-blue');
  });

  it('skips the arguments of 256-colour and true-colour codes instead of reading them as colours', () => {
    const { spans } = parseAnsi(`${ESC}[38;5;31mx${ESC}[38;2;1;32;3my`);
    expect(spans).toEqual([{ text: 'xy', fg: null, bright: false, bold: false }]);
  });

  it('strips cursor moves, erase, OSC titles and links, DCS, charset switches and control characters', () => {
    const input =
      `${ESC}[2K${ESC}[1A${ESC}[?25l${ESC}]0;title\x07${ESC}]8;;https://x.test${ESC}\\link${ESC}]8;;${ESC}\\` +
      `${ESC}(B${ESC}7${ESC}Pdcs data${ESC}\\ok\x00\x08\tend${ESC}[`;
    expect(stripAnsi(input)).toBe('linkok\tend');
  });

  it('keeps markup as text: nothing in the output is HTML', () => {
    const { spans } = parseAnsi(`${ESC}[31m<script>alert(1)</script>${ESC}[0m<img src=x onerror=alert(2)>`);
    expect(spans.map((s) => s.text)).toEqual(['<script>alert(1)</script>', '<img src=x onerror=alert(2)>']);
  });
});

describe('the log buffer', () => {
  it('splits chunks into numbered lines, keeps the unfinished one pending, and marks step headers', () => {
    const b = new LogBuffer();
    b.push('==> build\nhel');
    b.push('lo\nwor');
    expect(b.lines().map((l) => [l.n, l.text, l.step])).toEqual([
      [1, '==> build', true],
      [2, 'hello', false],
      [3, 'wor', false],
    ]);
    b.end();
    expect(b.lineCount).toBe(3);
  });

  it('keeps at most its cap in whole chunks and counts what it dropped', () => {
    const b = new LogBuffer(400);
    b.push(`${Array.from({ length: 1000 }, (_, i) => `line ${i + 1}`).join('\n')}\n`);
    const lines = b.lines();
    expect(b.dropped + lines.length).toBe(1000);
    expect(lines.length).toBeLessThanOrEqual(600);
    expect(lines.at(-1)?.text).toBe('line 1000');
    expect(lines[0]?.n).toBe(b.dropped + 1);
  });

  it('cuts a line longer than its cap, however it arrives, and says so', () => {
    const b = new LogBuffer();
    for (let i = 0; i < 100; i++) b.push('x'.repeat(1000));
    expect(b.pending()?.text.length).toBe(LINE_CAP);
    b.push('more\nnext line\n');
    const [long, next] = b.lines();
    expect(long?.text).toMatch(/^x+ … \[line cut here; the download has all of it\]$/);
    expect(long?.text.length).toBeLessThan(LINE_CAP + 60);
    expect(next?.text).toBe('next line');
  });

  it('shows what is after the last carriage return, as a terminal would', () => {
    expect(readLine('10%\r50%\r100%\r', 1, PLAIN).line.text).toBe('100%');
  });

  it('finds every match in any case and cuts spans at a match that crosses two colours', () => {
    const b = new LogBuffer();
    b.push(`${ESC}[32mgre${ESC}[0men and GREEN\nnothing\n`);
    const matches = findMatches(b.lines(), 'green');
    expect(matches.map((m) => [m.n, m.k])).toEqual([
      [1, 0],
      [1, 1],
    ]);
    const line = b.lines()[0];
    if (!line) throw new Error('no line');
    const p = pieces(line, matches, 1);
    expect(p.map((x) => [x.text, x.match, ansiClass(x.span)])).toEqual([
      ['gre', 'yes', 'ansi-green'],
      ['en', 'yes', ''],
      [' and ', 'no', ''],
      ['GREEN', 'current', ''],
    ]);
    expect(findMatches(b.lines(), 'a.c')).toEqual([]);
  });
});
