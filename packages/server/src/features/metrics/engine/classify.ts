import { attributeIncidents, type ProdDeployment, resolveScope, type ScopedIncident } from './history.js';
import type { MetricsInput, Scope } from './types.js';

export type DeploymentKind = 'change' | 'redeploy' | 'rollback' | 'revert' | 'fix-forward';
export type FailureReason = 'incident' | 'rollback' | 'revert' | 'fix-forward';

export interface ClassifiedDeployment extends ProdDeployment {
  kind: DeploymentKind;
  /** Reachable from this SHA but not from the previous successful deployment's SHA. */
  changeSet: string[];
  /** Ids of the failed deployments this one remediates. */
  remediatesIds: string[];
}

export interface FailedDeployment {
  id: string;
  finishedAt: number;
  reasons: FailureReason[];
  incidents: ScopedIncident[];
  /** The first deployment that remediated it, if any. */
  remediatedBy: ClassifiedDeployment | null;
}

export interface Classification {
  deployments: ClassifiedDeployment[];
  failures: Map<string, FailedDeployment>;
  /** Deployed SHAs missing from the commit list: no change set, no lead time. */
  unknownShas: string[];
}

const isUnresolvedAt = (incidents: readonly ScopedIncident[], t: number) =>
  incidents.some((i) => i.openedAt < t && (i.resolvedAt === null || i.resolvedAt > t));

export function classifyDeployments(input: MetricsInput, scope: Omit<Scope, 'from' | 'to'>): Classification {
  const { graph, deployments, incidents, incidentWindowMs } = resolveScope(input, scope);
  const blamed = attributeIncidents(deployments, incidents, incidentWindowMs);
  const out: ClassifiedDeployment[] = [];
  const failures = new Map<string, FailedDeployment>();
  const unknownShas = new Set<string>();
  const ranShas = new Set<string>();
  const shippedBy = new Map<string, string>();
  const remediated = new Set<string>();
  let current: ClassifiedDeployment | undefined;

  const fail = (id: string, finishedAt: number, reason: FailureReason, by?: ClassifiedDeployment) => {
    const f = failures.get(id) ?? { id, finishedAt, reasons: [], incidents: [], remediatedBy: null };
    if (!f.reasons.includes(reason)) f.reasons.push(reason);
    if (by && !f.remediatedBy) f.remediatedBy = by;
    failures.set(id, f);
  };

  for (const d of deployments) {
    const running = current?.sha;
    if (!graph.has(d.sha)) unknownShas.add(d.sha);
    const changeSet =
      running === undefined ? graph.reach(d.sha) : graph.reach(d.sha, new Set(graph.reach(running)));
    for (const sha of graph.reach(d.sha, new Set(shippedBy.keys()))) shippedBy.set(sha, d.id);
    const c: ClassifiedDeployment = { ...d, kind: 'change', changeSet, remediatesIds: [] };
    const explicit = d.remediates ? [d.remediates] : [];

    if (d.sha === running) c.kind = 'redeploy';
    else if (ranShas.has(d.sha)) {
      c.kind = 'rollback';
      // Re-deploying newer code after a rollback is a roll-forward: it moves away from nothing broken.
      const rollForward = current !== undefined && graph.contains(d.sha, current.sha);
      c.remediatesIds = explicit.length ? explicit : current && !rollForward ? [current.id] : [];
    } else {
      const reverted = changeSet.flatMap((sha) => graph.reverted(sha));
      const targets = [...new Set(reverted.map((sha) => shippedBy.get(sha)))].filter(
        (id): id is string => id !== undefined && id !== d.id,
      );
      if (targets.length) {
        c.kind = 'revert';
        c.remediatesIds = [...new Set([...targets, ...explicit])];
      } else if (explicit.length) {
        c.kind = 'fix-forward';
        c.remediatesIds = explicit;
      } else {
        const pending = out.filter(
          (p) => !remediated.has(p.id) && isUnresolvedAt(blamed.get(p.id) ?? [], d.finishedAt),
        );
        if (pending.length) {
          c.kind = 'fix-forward';
          c.remediatesIds = pending.map((p) => p.id);
        }
      }
    }

    for (const id of c.remediatesIds) {
      const target = out.find((p) => p.id === id);
      if (!target) continue;
      remediated.add(id);
      fail(id, target.finishedAt, c.kind as FailureReason, c);
    }
    ranShas.add(d.sha);
    out.push(c);
    if (c.kind !== 'redeploy') current = c;
  }

  for (const [id, incs] of blamed) {
    const d = out.find((p) => p.id === id)!;
    fail(id, d.finishedAt, 'incident');
    failures.get(id)!.incidents.push(...incs);
  }
  return { deployments: out, failures, unknownShas: [...unknownShas] };
}
