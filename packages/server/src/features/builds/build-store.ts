import type { Build, BuildStatus, BuildStep, StepStatus } from '@gantry/contracts';

export interface NewBuild {
  appId: string;
  sha: string;
  reason: string;
  requestedBy: string;
  sloMs: number;
  attempt?: number;
  /** gantry.yaml `build.runs_on`: only an agent with all these labels takes the build (features/agents). */
  runsOn?: string[] | null;
}

export interface BuildQuery {
  appId?: string;
  status?: BuildStatus;
  sha?: string;
  limit?: number;
  /** Cursor: return builds older than this build id. */
  before?: string;
}

export interface RunningBuild {
  id: string;
  runnerId: string | null;
  heartbeatAt: string | null;
}

export interface StepPatch {
  status?: StepStatus;
  startedAt?: string;
  finishedAt?: string;
  exitCode?: number | null;
  logTail?: string;
  pid?: number | null;
}

export interface BuildFinish {
  status: Extract<BuildStatus, 'succeeded' | 'failed' | 'cancelled' | 'interrupted'>;
  exitCode?: number | null;
  error?: string | null;
  artifactId?: string | null;
}

export interface BuildStore {
  enqueue(b: NewBuild): Promise<Build>;
  /** Builds of this SHA that are queued, running or succeeded. */
  findLive(appId: string, sha: string): Promise<Build[]>;
  /** Marks queued builds of the app superseded, except for `keepSha`. Returns their ids. */
  supersedeQueued(appId: string, keepSha: string): Promise<string[]>;
  /** Claims the oldest queued build without runs_on (agents take those) with a status-guarded update; undefined when none is left. */
  claimNext(runnerId: string): Promise<Build | undefined>;
  heartbeat(ids: string[], runnerId: string): Promise<void>;
  isCancelRequested(id: string): Promise<boolean>;
  /** Cancels a queued build at once (true) or flags a running one for its runner (false). */
  requestCancel(id: string): Promise<'cancelled' | 'flagged' | 'finished'>;
  finish(id: string, f: BuildFinish): Promise<boolean>;
  markSloBreached(id: string): Promise<void>;
  insertSteps(buildId: string, steps: { name: string; run: string }[]): Promise<void>;
  updateStep(buildId: string, idx: number, patch: StepPatch): Promise<void>;
  list(q: BuildQuery): Promise<Build[]>;
  find(id: string): Promise<Build | undefined>;
  steps(buildId: string): Promise<BuildStep[]>;
  running(): Promise<RunningBuild[]>;
  /** Process groups of steps still marked running in this build. */
  runningStepPids(buildId: string): Promise<number[]>;
  /** Marks steps left running by a dead runner as cancelled. */
  interruptRunningSteps(buildId: string): Promise<void>;
}
