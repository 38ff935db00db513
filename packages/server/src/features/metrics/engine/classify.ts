import { attributeIncidents, type FactDeployment, type ScopedIncident } from './history.js';

export type DeploymentKind = 'change' | 'redeploy' | 'rollback' | 'revert' | 'fix-forward';
export type FailureReason = 'incident' | 'rollback' | 'revert' | 'fix-forward';

export interface ClassifiedDeployment extends FactDeployment {
  kind: DeploymentKind;
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
}

const isUnresolvedAt = (incidents: readonly ScopedIncident[], t: number) =>
  incidents.some((i) => i.openedAt < t && (i.resolvedAt === null || i.resolvedAt > t));

/**
 * Gives each successful deployment (in finish order, with its ledger facts) one kind and finds the
 * failed deployments. Linear in the number of deployments; needs no commit graph.
 */
export function classify(
  deployments: readonly FactDeployment[],
  incidents: readonly ScopedIncident[],
  incidentWindowMs: number,
): Classification {
  const blamed = attributeIncidents(deployments, incidents, incidentWindowMs);
  const out: ClassifiedDeployment[] = [];
  // Only deployments something points at need finding by id: a year has few of them.
  const referenced = new Set<string>(blamed.keys());
  for (const d of deployments) {
    if (d.remediates) referenced.add(d.remediates);
    for (const id of d.revertTargets) referenced.add(id);
  }
  const byId = new Map<string, ClassifiedDeployment>();
  const failures = new Map<string, FailedDeployment>();
  const remediated = new Set<string>();
  // Deployments with incidents blamed on them, not yet remediated: candidates for a fix-forward.
  let pending: ClassifiedDeployment[] = [];
  let current: ClassifiedDeployment | undefined;

  const fail = (target: ClassifiedDeployment, reason: FailureReason, by?: ClassifiedDeployment) => {
    const f = failures.get(target.id) ?? {
      id: target.id,
      finishedAt: target.finishedAt,
      reasons: [],
      incidents: [],
      remediatedBy: null,
    };
    if (!f.reasons.includes(reason)) f.reasons.push(reason);
    if (by && !f.remediatedBy) f.remediatedBy = by;
    failures.set(target.id, f);
  };

  for (const d of deployments) {
    // Built field by field: one object shape for every deployment keeps a year of them fast.
    const c: ClassifiedDeployment = {
      id: d.id,
      sha: d.sha,
      trigger: d.trigger,
      requestedAt: d.requestedAt,
      finishedAt: d.finishedAt,
      remediates: d.remediates,
      ranBefore: d.ranBefore,
      forward: d.forward,
      revertTargets: d.revertTargets,
      knownSha: d.knownSha,
      newCommits: d.newCommits,
      kind: 'change',
      remediatesIds: [],
    };
    // Deployments come in finish order: an incident resolved by now stays resolved for all later ones.
    if (pending.length)
      pending = pending.filter((p) =>
        blamed.get(p.id)!.some((i) => i.resolvedAt === null || i.resolvedAt > d.finishedAt),
      );
    const explicit = d.remediates ? [d.remediates] : [];
    if (current && d.sha === current.sha) c.kind = 'redeploy';
    else if (d.ranBefore) {
      c.kind = 'rollback';
      // Re-deploying newer code after a rollback is a roll-forward: it moves away from nothing broken.
      c.remediatesIds = explicit.length ? explicit : current && !d.forward ? [current.id] : [];
    } else {
      const targets = d.revertTargets.filter((id) => byId.has(id));
      if (targets.length) {
        c.kind = 'revert';
        c.remediatesIds = [...new Set([...targets, ...explicit])];
      } else if (explicit.length) {
        c.kind = 'fix-forward';
        c.remediatesIds = explicit;
      } else {
        const open = pending.filter((p) => isUnresolvedAt(blamed.get(p.id)!, d.finishedAt));
        if (open.length) {
          c.kind = 'fix-forward';
          c.remediatesIds = open.map((p) => p.id);
        }
      }
    }

    for (const id of c.remediatesIds) {
      const target = id === current?.id ? current : byId.get(id);
      if (!target) continue;
      remediated.add(id);
      fail(target, c.kind as FailureReason, c);
    }
    if (c.remediatesIds.length) pending = pending.filter((p) => !remediated.has(p.id));
    out.push(c);
    if (referenced.has(c.id)) byId.set(c.id, c);
    if (blamed.has(c.id)) pending.push(c);
    if (c.kind !== 'redeploy') current = c;
  }

  for (const [id, incs] of blamed) {
    const d = byId.get(id)!;
    fail(d, 'incident');
    failures.get(id)!.incidents.push(...incs);
  }
  return { deployments: out, failures };
}
