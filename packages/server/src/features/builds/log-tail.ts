/** Longest line a tail keeps; the rest of a longer line is dropped and the cut is marked. */
export const TAIL_LINE_CAP = 64 * 1024;

/**
 * The last lines of a step's output, kept as the output arrives: linear in the output and bounded
 * in memory (at most `lines` lines of at most `lineCap` bytes each, plus a marker on cut lines),
 * however long a line is or how it is split across chunks.
 */
export class LogTail {
  private readonly done: string[] = [];
  /** The line being written: its first `lineCap` bytes, and how long it is in all. */
  private parts: Buffer[] = [];
  private kept = 0;
  private length = 0;

  constructor(
    private readonly lines = 20,
    private readonly lineCap = TAIL_LINE_CAP,
  ) {}

  push(chunk: Buffer): void {
    let from = 0;
    while (from < chunk.length) {
      const nl = chunk.indexOf(10, from);
      const end = nl === -1 ? chunk.length : nl;
      this.add(chunk.subarray(from, end));
      if (nl === -1) return;
      this.endLine();
      from = nl + 1;
    }
  }

  /** The kept lines, the one still being written last (without a final line break). */
  text(): string {
    const all = this.length > 0 ? [...this.done, this.current()] : this.done;
    return all.slice(-this.lines).join('\n');
  }

  private add(piece: Buffer): void {
    this.length += piece.length;
    const room = this.lineCap - this.kept;
    if (room <= 0 || piece.length === 0) return;
    // A copy: a subarray would keep the whole chunk it came from alive.
    const kept = Buffer.from(piece.subarray(0, room));
    this.parts.push(kept);
    this.kept += kept.length;
  }

  private endLine(): void {
    this.done.push(this.current());
    if (this.done.length > this.lines) this.done.shift();
    this.parts = [];
    this.kept = 0;
    this.length = 0;
  }

  private current(): string {
    const text = Buffer.concat(this.parts, this.kept).toString('utf8');
    return this.length > this.kept ? `${text} … [line cut: ${formatBytes(this.length)}]` : text;
  }
}

export function formatBytes(n: number): string {
  if (n >= 1e9) return `${round(n / 1e9)} GB`;
  if (n >= 1e6) return `${round(n / 1e6)} MB`;
  if (n >= 1e3) return `${round(n / 1e3)} kB`;
  return `${n} B`;
}

function round(x: number): string {
  return (x >= 10 ? Math.round(x) : Math.round(x * 10) / 10).toString();
}
