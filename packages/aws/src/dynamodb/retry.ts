/** Delays of the retry loops: exponential backoff with full jitter. */
export interface BackoffTiming {
  /** Upper bound of the first delay, doubled on every further attempt. */
  readonly baseDelayMs: number;
  /** Cap of the upper bound. */
  readonly maxDelayMs: number;
}

/** Default base delay of the retry loops. */
export const DEFAULT_BASE_DELAY_MS = 25;
/** Default cap of one retry delay. */
export const DEFAULT_MAX_DELAY_MS = 2_000;

/**
 * The delay before retry number `attempt` (0 for the first retry): "full jitter", a uniformly
 * random time in `[0, min(maxDelayMs, baseDelayMs * 2^attempt))`. Spreading retries over the
 * whole window is what stops many throttled writers from retrying in lockstep.
 */
export function backoffDelay(
  attempt: number,
  timing: BackoffTiming,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(timing.maxDelayMs, timing.baseDelayMs * 2 ** Math.min(attempt, 30));
  return random() * ceiling;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Names of DynamoDB errors that mean "too fast" or "try again", with nothing written. Server
 * errors (500) are left to the SDK's own retries: the write may have happened, and a retried
 * conditional write would then report a conflict with itself.
 */
const TRANSIENT_ERRORS = new Set([
  "ProvisionedThroughputExceededException",
  "ThrottlingException",
  "RequestLimitExceeded",
  // A write touched an item that an unfinished transaction holds.
  "TransactionConflictException",
]);

/** Cancellation reason codes of a transaction that is worth retrying as it is. */
const TRANSIENT_REASONS = new Set([
  "TransactionConflict",
  "ThrottlingError",
  "ProvisionedThroughputExceeded",
  "RequestLimitExceeded",
]);

function nameOf(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && typeof (error as { name?: unknown }).name === "string"
    ? (error as { name: string }).name
    : undefined;
}

/** `true` when `error` is a throttling or transient server error of DynamoDB. */
export function isTransientError(error: unknown): boolean {
  const name = nameOf(error);
  if (name !== undefined && TRANSIENT_ERRORS.has(name)) return true;
  if (name === "TransactionCanceledException") {
    const reasons = cancellationReasons(error);
    return (
      reasons.some((reason) => reason.Code !== undefined && TRANSIENT_REASONS.has(reason.Code)) &&
      reasons.every((reason) => reason.Code !== "ConditionalCheckFailed")
    );
  }
  return (error as { $retryable?: { throttling?: boolean } } | undefined)?.$retryable?.throttling === true;
}

/** The cancellation reason of each action of a cancelled transaction (raw attribute values). */
export interface CancellationReason {
  readonly Code?: string | undefined;
  readonly Message?: string | undefined;
  readonly Item?: Record<string, unknown> | undefined;
}

export function cancellationReasons(error: unknown): readonly CancellationReason[] {
  const reasons = (error as { CancellationReasons?: unknown } | undefined)?.CancellationReasons;
  return Array.isArray(reasons) ? (reasons as CancellationReason[]) : [];
}

/** `true` when `error` is DynamoDB's ConditionalCheckFailedException. */
export function isConditionalCheckFailed(error: unknown): boolean {
  return nameOf(error) === "ConditionalCheckFailedException";
}

/** Options of {@link retryTransient}. */
export interface RetryOptions extends BackoffTiming {
  /** `Date.now()` after which no retry starts. */
  readonly deadline: number;
}

/**
 * Runs `task`, retrying it after {@link backoffDelay} while it fails with a transient error
 * ({@link isTransientError}) and the next attempt can still start before `deadline`. The last
 * error is thrown as it is.
 */
export async function retryTransient<T>(task: () => Promise<T>, options: RetryOptions): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await task();
    } catch (error) {
      if (!isTransientError(error)) throw error;
      const delay = backoffDelay(attempt, options);
      if (Date.now() + delay >= options.deadline) throw error;
      await sleep(delay);
    }
  }
}
