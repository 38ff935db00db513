import type {
  Segment,
  Toggle,
  ToggleConstraint,
  ToggleDependency,
  ToggleStrategy,
  ToggleType,
  ToggleVariant,
} from '@gantry/contracts';

export interface NewToggle {
  appId: string;
  name: string;
  type: ToggleType;
  description: string;
  owner: string | null;
  impressionData: boolean;
  dependencies: ToggleDependency[];
  createdBy: string;
}

export interface EnvironmentPatch {
  enabled?: boolean;
  strategies?: ToggleStrategy[];
  variants?: ToggleVariant[];
}

export interface ToggleStore {
  /**
   * Locks these toggles' rows until the transaction ends, in one order (by id) for every caller,
   * so two transactions changing the same toggles in opposite orders wait instead of deadlocking.
   * A no-op where the engine locks the whole database for a write (SQLite).
   */
  lockInOrder(keys: { appId: string; name: string }[]): Promise<void>;
  insert(t: NewToggle): Promise<Toggle>;
  find(appId: string, name: string): Promise<Toggle | undefined>;
  list(appId: string, opts?: { includeArchived?: boolean }): Promise<Toggle[]>;
  updateMeta(
    id: string,
    patch: Partial<Pick<NewToggle, 'type' | 'description' | 'owner' | 'impressionData' | 'dependencies'>>,
  ): Promise<void>;
  /** Creates the environment row when missing (disabled, no strategies). */
  patchEnvironment(toggleId: string, env: string, patch: EnvironmentPatch): Promise<void>;
  archive(id: string): Promise<void>;
  /** Increments and returns the revision of an app's environment; SDK ETags derive from it. */
  bumpRevision(appId: string, env: string): Promise<number>;
  revision(appId: string, env: string): Promise<number>;
  revisions(): Promise<{ appId: string; env: string; revision: number }[]>;
  segments(appId: string): Promise<Segment[]>;
  upsertSegment(
    appId: string,
    name: string,
    description: string,
    constraints: ToggleConstraint[],
  ): Promise<Segment>;
}
