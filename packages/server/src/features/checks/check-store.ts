import type { CheckRun } from '@gantry/contracts';

export interface NewCheckRun {
  deploymentId: string;
  name: string;
  kind: CheckRun['kind'];
  attempt: number;
}

export interface CheckRunFinish {
  status: Extract<CheckRun['status'], 'passed' | 'failed' | 'cancelled'>;
  output: string;
  error: string | null;
}

/** Each run of each post-deploy check, with what it printed or saw. */
export interface CheckStore {
  start(run: NewCheckRun): Promise<CheckRun>;
  /** Guarded: only a running run finishes, so a run cancelled at a restart stays cancelled. */
  finish(id: string, f: CheckRunFinish): Promise<CheckRun | undefined>;
  /** A deployment's runs in the order they started. */
  list(deploymentId: string): Promise<CheckRun[]>;
  /** Every run still marked running (a server that stopped mid-check left them). */
  running(): Promise<CheckRun[]>;
}
