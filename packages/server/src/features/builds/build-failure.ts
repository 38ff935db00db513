/** A build that failed for a reason its log or its error says (not a crash of the runner). */
export class BuildFailure extends Error {
  constructor(
    message: string,
    readonly exitCode: number | null = null,
    readonly status: 'failed' | 'cancelled' = 'failed',
  ) {
    super(message);
  }
}
