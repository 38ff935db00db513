import type { EvaluationReason } from '../evaluator/index.js';

/** OFREP's `metadata`: primitives only, as providers keep nothing else. */
export type FlagMetadata = Record<string, string | number | boolean>;

export type OfrepErrorCode =
  | 'PARSE_ERROR'
  | 'TARGETING_KEY_MISSING'
  | 'INVALID_CONTEXT'
  | 'GENERAL'
  | 'FLAG_NOT_FOUND';

/** `evaluationSuccess`; `value` is absent when the caller's code default applies. */
export type OfrepSuccess = {
  key: string;
  value?: unknown;
  reason: EvaluationReason;
  variant?: string;
  metadata: FlagMetadata;
};

/** `evaluationFailure` and `flagNotFound`. */
export type OfrepFailure = {
  key: string;
  errorCode: OfrepErrorCode;
  errorDetails: string;
  metadata?: FlagMetadata;
};

export type OfrepResult = OfrepSuccess | OfrepFailure;

export function isFailure(r: OfrepResult): r is OfrepFailure {
  return 'errorCode' in r;
}
