import {
  type ActiveFreeze,
  type ApprovalsConfig,
  activeFreeze,
  type DeploymentOverride,
  type FreezeWindow,
  freezeRefusal,
  freezeWindowText,
  type GantryEnvironment,
} from '@gantry/contracts';
import { InvalidInput, NotAllowed } from '../../errors.js';
import type { GateRequest, GateVerdict, Requester } from '../deployments/deployment-gate.js';
import { identityOf, isAdmin, requesterOf } from './approver-identity.js';

/** What protects an environment: approvals, freeze windows, and whether rollbacks wait too. */
export interface EnvironmentRules {
  approvals?: ApprovalsConfig;
  freeze?: readonly FreezeWindow[];
  protectRollbacks: boolean;
}

/**
 * The rules come from gantry.yaml at the head of the main branch when it declares the environment,
 * else from the deployed commit's. _Why_: a commit must not lift the approvals or the freeze that
 * would stop it by deleting them from its own gantry.yaml; lifting them is a change on main.
 */
export function rulesOf(
  atHead: GantryEnvironment | undefined,
  atSha: GantryEnvironment | undefined,
): EnvironmentRules {
  const env = atHead ?? atSha;
  return {
    approvals: env?.approvals,
    freeze: env?.freeze,
    protectRollbacks: env?.protect_rollbacks ?? false,
  };
}

const QUEUE: GateVerdict = { kind: 'queue' };

/**
 * The decision for one request, in memory. Rollbacks pass unless the environment sets
 * `protect_rollbacks` (Gantry's own rollback after a failed check always passes: it restores what
 * served before); an admin's break-glass skips the freeze and the approvals; a freeze refuses; with
 * approvals the request waits. Throws for a break-glass without a reason or by a non-admin.
 */
export function decide(r: GateRequest, rules: EnvironmentRules, now: Date): GateVerdict {
  // A rollback leaves requests that wait alone (their approvers decide): it costs no round trip here.
  if (r.trigger === 'auto-rollback' || (r.trigger === 'rollback' && !rules.protectRollbacks)) return QUEUE;
  const freeze = rules.freeze?.length ? activeFreeze(rules.freeze, now) : null;
  if (r.override) return breakGlass(r, r.override, rules, freeze);
  if (freeze)
    return {
      kind: 'refuse',
      why: freezeRefusal(r.env, freeze),
      details: { freeze: { ...freeze, text: freezeWindowText(freeze.window) } },
    };
  if (!rules.approvals || r.digest === null) return QUEUE;
  return { kind: 'wait', requester: requesterOf(r), approvals: rules.approvals };
}

/** Throws unless an admin (server:admin) asks for break-glass with a reason; who, and the reason trimmed. */
export function checkBreakGlass(
  principal: Requester | undefined,
  override: DeploymentOverride,
  otherwise = 'wait until the freeze ends, or ask for approval',
): { by: string; reason: string } {
  if (!principal || !isAdmin(principal))
    throw new NotAllowed(
      `break-glass is for admins (server:admin)${principal ? `; ${identityOf(principal)} is not one` : ''}: ` +
        `ask an admin, or ${otherwise}`,
    );
  const reason = override.reason.trim();
  if (!reason)
    throw new InvalidInput(
      'break-glass needs a reason: say why this cannot wait (--override --reason "<why>")',
      {
        field: 'reason',
      },
    );
  return { by: identityOf(principal), reason };
}

function breakGlass(
  r: GateRequest,
  override: DeploymentOverride,
  rules: EnvironmentRules,
  freeze: ActiveFreeze | null,
): GateVerdict {
  const { by, reason } = checkBreakGlass(
    r.principal,
    override,
    freeze ? 'wait until the freeze ends' : 'ask for approval',
  );
  const skipped: string[] = [];
  if (freeze)
    skipped.push(`freeze ${freezeWindowText(freeze.window)} until ${freeze.endsAt}: ${freeze.reason}`);
  if (rules.approvals)
    skipped.push(`approvals: ${rules.approvals.required} from ${rules.approvals.from.join(', ')}`);
  return {
    kind: 'queue',
    supersedeWaiting: rules.approvals !== undefined,
    breakGlass: { by, reason, skipped },
  };
}
