/** Toggle definitions in the shape of Unleash's `GET /api/client/features` body. */
export type ClientFeatures = {
  version: number;
  features: FeatureDefinition[];
  segments?: SegmentDefinition[] | null;
};

export type FeatureDefinition = {
  name: string;
  type?: string;
  enabled: boolean;
  impressionData?: boolean;
  project?: string;
  description?: string | null;
  stale?: boolean;
  strategies: StrategyDefinition[];
  variants?: VariantDefinition[] | null;
  dependencies?: FeatureDependency[] | null;
};

export type StrategyDefinition = {
  name: string;
  id?: string;
  parameters?: Record<string, string> | null;
  constraints?: ConstraintDefinition[] | null;
  segments?: number[] | null;
  variants?: VariantDefinition[] | null;
};

export type ConstraintDefinition = {
  contextName: string;
  operator: string;
  values?: string[] | null;
  value?: string | null;
  caseInsensitive?: boolean;
  inverted?: boolean;
};

export type SegmentDefinition = {
  id: number;
  name?: string;
  constraints: ConstraintDefinition[];
};

export type VariantPayload = { type: string; value: string };

export type VariantOverride = { contextName: string; values: string[] };

export type VariantDefinition = {
  name: string;
  weight: number;
  weightType?: string;
  stickiness?: string | null;
  payload?: VariantPayload;
  overrides?: VariantOverride[] | null;
};

export type FeatureDependency = {
  feature: string;
  enabled?: boolean;
  variants?: string[] | null;
};

export type ContextProperties = Record<string, string | number | null | undefined>;

/** Unleash's evaluation context; other top-level fields are looked up like `properties`. */
export type ToggleContext = {
  userId?: string;
  sessionId?: string;
  remoteAddress?: string;
  environment?: string;
  appName?: string;
  currentTime?: Date | string;
  properties?: ContextProperties;
  [field: string]: unknown;
};

/** Same shape as unleash-client's `getVariant` result and the client specification's expectations. */
export type VariantResult = {
  readonly name: string;
  readonly enabled: boolean;
  readonly payload?: VariantPayload;
  readonly feature_enabled: boolean;
};

/** OFREP's reasons, as the OFREP endpoint reports them. */
export type EvaluationReason = 'STATIC' | 'TARGETING_MATCH' | 'SPLIT' | 'DISABLED' | 'DEFAULT';

export type ToggleEvaluation = {
  enabled: boolean;
  variant: VariantResult;
  reason: EvaluationReason;
  flagFound: boolean;
  /** The strategy that enabled the toggle: its position in `strategies` and its name. */
  matchedStrategy?: { index: number; name: string };
};

export type EvaluatorOptions = {
  /** Hostname for `applicationHostname`; defaults to `$HOSTNAME`, then `os.hostname()`, as the Node SDK does. */
  hostname?: string;
  /** Source of randomness for `random` stickiness and `gradualRolloutRandom`; defaults to `Math.random`. */
  random?: () => number;
};
