import type { Build, Deployment } from '@gantry/contracts';
import { table } from '../output.js';

export function ms(n: number | null | undefined): string {
  return n === null || n === undefined || Number.isNaN(n) ? '' : `${Math.round(n)} ms`;
}

export function between(from: string | null | undefined, to: string | null | undefined): number | null {
  return from && to ? Date.parse(to) - Date.parse(from) : null;
}

export function phasesOf(d: Deployment): string {
  return d.phases.map((p) => `${p.name} ${p.ms ?? '?'}`).join(' · ') + (d.phases.length ? ' ms' : '');
}

/** How long each step of the demo took, printed as one table at the end. */
export class Timeline {
  private readonly rows: Record<string, string>[] = [];

  add(step: string, took: number | null, detail = ''): void {
    this.rows.push({ step, took: ms(took), detail });
  }

  build(label: string, b: Build): void {
    this.add(
      label,
      between(b.startedAt, b.finishedAt),
      `queued → started ${ms(between(b.queuedAt, b.startedAt))}`,
    );
  }

  deployment(label: string, d: Deployment, extra = ''): void {
    const how = `${d.status}${d.kind ? ` (${d.kind})` : ''}`;
    this.add(label, between(d.startedAt, d.finishedAt), [how, phasesOf(d), extra].filter(Boolean).join('; '));
  }

  print(): void {
    table(this.rows, ['step', 'took', 'detail']);
  }
}
