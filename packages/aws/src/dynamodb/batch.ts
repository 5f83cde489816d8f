import type { BatchWriteCommandInput, BatchWriteCommandOutput } from "@aws-sdk/lib-dynamodb";
import { BatchWriteCommand } from "@aws-sdk/lib-dynamodb";
import { ConfigurationError, MusicpipeError } from "@musicpipe/core";
import pLimit from "p-limit";
import { checkPositive } from "./options.js";
import {
  backoffDelay,
  DEFAULT_BASE_DELAY_MS,
  DEFAULT_MAX_DELAY_MS,
  isTransientError,
  sleep,
} from "./retry.js";

/** One put or delete of a BatchWriteItem request, in document-client form (plain JS values). */
export type BatchWriteRequest = NonNullable<BatchWriteCommandInput["RequestItems"]>[string][number];

/** Write requests per table name. */
export type BatchWriteRequests = Readonly<Record<string, readonly BatchWriteRequest[]>>;

/**
 * What {@link batchWriteAll} needs of a document client: `send` of a `BatchWriteCommand`.
 * A `DynamoDBDocumentClient` fits; tests can pass a stub.
 */
export interface BatchWriteSender {
  /** Sends one `BatchWriteCommand` (at most 25 requests). */
  send(command: BatchWriteCommand): Promise<BatchWriteCommandOutput>;
}

/** Options of {@link batchWriteAll}. */
export interface BatchWriteOptions {
  /**
   * How long, from the call, retries of unprocessed or throttled requests may go on. When it
   * runs out with requests still unwritten, the call fails with {@link BatchWriteIncompleteError}.
   */
  readonly timeBudgetMs: number;
  /**
   * Cap of one retry delay.
   * @default 2000
   */
  readonly maxDelayMs?: number | undefined;
  /**
   * Upper bound of the first retry delay, doubled on every further retry of a chunk.
   * @default 25
   */
  readonly baseDelayMs?: number | undefined;
  /**
   * How many BatchWriteItem requests are in flight at once.
   * @default 1
   */
  readonly concurrency?: number | undefined;
  /**
   * Key attribute names per table, so that {@link BatchWriteIncompleteError} can name the key
   * of an unwritten put. Without an entry, the key of a put is reported as its whole item.
   * @default {}
   */
  readonly keyAttributes?: Readonly<Record<string, readonly string[]>> | undefined;
}

/** A request that {@link batchWriteAll} could not write. */
export interface UnwrittenRequest {
  /** The table it was for. */
  readonly table: string;
  readonly kind: "put" | "delete";
  /** The key of the item (for a put of a table without `keyAttributes`: the whole item). */
  readonly key: Readonly<Record<string, unknown>>;
  /** The request itself, to retry it later. */
  readonly request: BatchWriteRequest;
}

/**
 * {@link batchWriteAll} ran out of its time budget with requests still unwritten (DynamoDB kept
 * returning them as `UnprocessedItems`, or kept throttling). Nothing is silently dropped: every
 * request not known to be written is in {@link BatchWriteIncompleteError.unwritten}.
 */
export class BatchWriteIncompleteError extends MusicpipeError {
  /** The requests that were not written, with their table and key. */
  readonly unwritten: readonly UnwrittenRequest[];
  /** How many requests the call was given. */
  readonly requested: number;

  constructor(
    unwritten: readonly UnwrittenRequest[],
    requested: number,
    timeBudgetMs: number,
    cause?: unknown,
  ) {
    const tables = [...new Set(unwritten.map((u) => u.table))].join(", ");
    super(
      "batch_write_incomplete",
      `BatchWriteItem left ${unwritten.length} of ${requested} requests unwritten (tables: ${tables}) after its time budget of ${timeBudgetMs} ms`,
      cause === undefined ? {} : { cause },
    );
    this.unwritten = unwritten;
    this.requested = requested;
  }
}

/** Most requests one BatchWriteItem call may carry. */
export const BATCH_WRITE_LIMIT = 25;

interface Pending {
  readonly table: string;
  readonly request: BatchWriteRequest;
}

function toRequestItems(pending: readonly Pending[]): Record<string, BatchWriteRequest[]> {
  const items: Record<string, BatchWriteRequest[]> = {};
  for (const { table, request } of pending) {
    const list = items[table] ?? [];
    list.push(request);
    items[table] = list;
  }
  return items;
}

function fromRequestItems(items: BatchWriteCommandOutput["UnprocessedItems"]): Pending[] {
  const pending: Pending[] = [];
  for (const [table, requests] of Object.entries(items ?? {})) {
    for (const request of requests ?? []) pending.push({ table, request });
  }
  return pending;
}

function unwrittenOf(
  pending: Pending,
  keyAttributes: Readonly<Record<string, readonly string[]>>,
): UnwrittenRequest {
  const { table, request } = pending;
  if (request.DeleteRequest !== undefined) {
    return { table, kind: "delete", key: { ...request.DeleteRequest.Key }, request };
  }
  const item: Record<string, unknown> = { ...(request.PutRequest?.Item ?? {}) };
  const names = keyAttributes[table];
  const key = names === undefined ? item : Object.fromEntries(names.map((name) => [name, item[name]]));
  return { table, kind: "put", key, request };
}

/**
 * Writes every request with BatchWriteItem, in calls of at most 25 requests. DynamoDB may
 * accept only part of a call (`UnprocessedItems`) or throttle it; those requests are sent
 * again after an exponential backoff with full jitter (a random delay in
 * `[0, min(maxDelayMs, baseDelayMs * 2^attempt))`) until all are written or `timeBudgetMs`
 * runs out, which fails with {@link BatchWriteIncompleteError} listing what was not written.
 * Other errors (a validation error, say) are thrown as they are; requests of calls that had
 * already succeeded stay written.
 *
 * A call may not hold two requests for one key: give each key once.
 *
 * @example
 * const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}));
 * await batchWriteAll(doc, {
 *   MusicpipeImports: rows.map((row) => ({ PutRequest: { Item: row } })),
 * }, { timeBudgetMs: 30_000 });
 */
export async function batchWriteAll(
  doc: BatchWriteSender,
  requests: BatchWriteRequests,
  options: BatchWriteOptions,
): Promise<void> {
  const where = "batchWriteAll";
  if (options?.timeBudgetMs === undefined)
    throw new ConfigurationError(`${where}: 'timeBudgetMs' is required`);
  checkPositive(where, "timeBudgetMs", options.timeBudgetMs, false);
  checkPositive(where, "maxDelayMs", options.maxDelayMs, false);
  checkPositive(where, "baseDelayMs", options.baseDelayMs, false);
  checkPositive(where, "concurrency", options.concurrency, true);
  const timing = {
    baseDelayMs: options.baseDelayMs ?? DEFAULT_BASE_DELAY_MS,
    maxDelayMs: options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS,
  };
  const deadline = Date.now() + options.timeBudgetMs;

  const all: Pending[] = [];
  for (const [table, list] of Object.entries(requests)) {
    for (const request of list) all.push({ table, request });
  }
  const chunks: Pending[][] = [];
  for (let i = 0; i < all.length; i += BATCH_WRITE_LIMIT) chunks.push(all.slice(i, i + BATCH_WRITE_LIMIT));

  const unwritten: Pending[] = [];
  let lastTransient: unknown;
  let failed = false;

  /** Writes one chunk; what is left when the budget runs out goes to `unwritten`. */
  const writeChunk = async (chunk: Pending[]): Promise<void> => {
    let left = chunk;
    for (let attempt = 0; left.length > 0; ) {
      // Every chunk is sent at least once; the time budget bounds the retries only. (Before, a
      // chunk queued behind slow ones could be reported unwritten without ever being sent.)
      if (failed || (attempt > 0 && Date.now() >= deadline)) {
        unwritten.push(...left);
        return;
      }
      try {
        const out = await doc.send(new BatchWriteCommand({ RequestItems: toRequestItems(left) }));
        left = fromRequestItems(out.UnprocessedItems);
      } catch (error) {
        if (!isTransientError(error)) {
          failed = true;
          throw error;
        }
        lastTransient = error;
      }
      if (left.length === 0) return;
      const delay = backoffDelay(attempt++, timing);
      if (Date.now() + delay >= deadline) {
        unwritten.push(...left);
        return;
      }
      await sleep(delay);
    }
  };

  const limit = pLimit(options.concurrency ?? 1);
  await Promise.all(chunks.map((chunk) => limit(() => writeChunk(chunk))));
  if (unwritten.length > 0) {
    throw new BatchWriteIncompleteError(
      unwritten.map((pending) => unwrittenOf(pending, options.keyAttributes ?? {})),
      all.length,
      options.timeBudgetMs,
      lastTransient,
    );
  }
}
