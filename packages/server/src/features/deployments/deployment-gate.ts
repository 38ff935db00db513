import type {
  ApprovalsConfig,
  Deployment,
  DeploymentApproval,
  DeploymentOverride,
  DeploymentTrigger,
  GantryEnvironment,
  GantryYaml,
} from '@gantry/contracts';
import type { Binding } from '../access/roles.js';
import type { AppRecord } from '../apps/app-store.js';

/**
 * Who asked, as the HTTP layer knows them (`req.principal`); absent for tags, auto-deploys and
 * Gantry's own requests. Structural, so that a token's principal and a person's both fit: `kind`,
 * `groups` and `bindings` come with people and roles (features/access); without them it is a token.
 */
export interface Requester {
  kind?: 'user' | 'token';
  /** The person's login or the token's name. */
  name: string;
  /** The token's role (`admin`, `deployer`…), or `user` for a person. */
  role: string;
  groups?: readonly string[];
  /** What it may do, where (features/access/roles.ts); without them, a token's role says. */
  bindings?: readonly Binding[];
}

/** A request that passed every other gate, with gantry.yaml at its SHA. */
export interface GateRequest {
  app: AppRecord;
  env: string;
  sha: string;
  trigger: DeploymentTrigger;
  actor: string;
  principal?: Requester;
  override?: DeploymentOverride | null;
  config: GantryYaml | undefined;
  envConfig: GantryEnvironment;
  digest: string | null;
}

/** What happens to a request: queued now, waits for approvals, or refused (a freeze). */
export type GateVerdict =
  | {
      kind: 'queue';
      /** Older requests waiting for approval in the environment give way to this one. */
      supersedeWaiting?: boolean;
      breakGlass?: { by: string; reason: string; skipped: string[] };
    }
  | { kind: 'wait'; requester: string; approvals: ApprovalsConfig }
  | { kind: 'refuse'; why: string; details?: Record<string, unknown> };

/**
 * Approvals and freeze windows, from outside this folder (features/approvals), so that this folder
 * imports nothing of it. `check` decides without recording anything; `recorded` follows the insert.
 */
export interface DeploymentGate {
  check(r: GateRequest): Promise<GateVerdict>;
  recorded(d: Deployment, r: GateRequest, verdict: GateVerdict): Promise<void>;
  /** Throws unless the principal may break the glass (server:admin) and says why. */
  checkOverride(principal: Requester | undefined, override: DeploymentOverride): void;
  /** The deployment's approval in brief when it waited or waits for one, else null. */
  approvalOf(d: Deployment): Promise<DeploymentApproval | null>;
}

export const OPEN_GATE: DeploymentGate = {
  check: async () => ({ kind: 'queue' }),
  recorded: async () => {},
  checkOverride: () => {},
  approvalOf: async () => null,
};
