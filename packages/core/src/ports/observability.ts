/** Structured fields attached to a log line or a failure. Never put user names here. */
export type LogFields = Readonly<Record<string, unknown>>;

/** A structured logger. */
export interface Logger {
  /** Writes `message` with `fields` at level debug (detail for finding a fault). */
  debug(message: string, fields?: LogFields): void;
  /** Writes `message` with `fields` at level info (what the pipeline did). */
  info(message: string, fields?: LogFields): void;
  /** Writes `message` with `fields` at level warn (handled, but worth a look). */
  warn(message: string, fields?: LogFields): void;
  /** Writes `message` with `fields` at level error (a stage failed). */
  error(message: string, fields?: LogFields): void;
}

/** Counts and durations. */
export interface Metrics {
  /** Adds `value` to the count `name`, with `dimensions`. */
  count(name: string, value: number, dimensions?: Readonly<Record<string, string>>): void;
  /** Records a duration of `ms` milliseconds under `name`, with `dimensions`. */
  durationMs(name: string, ms: number, dimensions?: Readonly<Record<string, string>>): void;
  /** Sends what was recorded, when the adapter buffers. */
  flush?(): Promise<void>;
}

/** A stage failure worth telling someone about. */
export interface FailureNotice {
  readonly fileKey: string;
  readonly stage: string;
  readonly code: string;
  readonly message: string;
  readonly runId?: string | undefined;
}

/** Tells someone about failures (SNS, a chat hook, a test spy). */
export interface Notifier {
  /** Sends `notice`; rejects when it could not be sent. */
  notify(notice: FailureNotice): Promise<void>;
}

/** The time source; injectable so tests and re-runs are deterministic. */
export interface Clock {
  /** The current time. */
  now(): Date;
}

/** Triggers a run of an orchestration DAG. A run id that already exists is success. */
export interface DagTrigger {
  /**
   * Starts run `runId` of DAG `dagId` with `conf`; `created` is `false` when a run with that id
   * already existed (a re-delivered event).
   */
  trigger(
    dagId: string,
    runId: string,
    conf: Readonly<Record<string, unknown>>,
  ): Promise<{ readonly created: boolean }>;
}

/** A logger that drops everything. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
/** Metrics that record nothing. */
export const noMetrics: Metrics = { count() {}, durationMs() {} };
/** The system clock. */
export const systemClock: Clock = { now: () => new Date() };
