import type { Deployment } from '@gantry/contracts';
import { median } from './support.js';

/** The median of each phase over the deployments that have it, in the order phases first appear. */
export function phaseMedians(deployments: Deployment[]): Record<string, number> {
  const byName = new Map<string, number[]>();
  for (const d of deployments) {
    for (const p of d.phases) {
      if (p.ms === null) continue;
      const list = byName.get(p.name) ?? [];
      list.push(p.ms);
      byName.set(p.name, list);
    }
  }
  return Object.fromEntries([...byName].map(([name, xs]) => [name, median(xs)]));
}
