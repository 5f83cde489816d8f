import {
  type DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  ScanCommand,
  type ScanCommandInput,
} from "@aws-sdk/lib-dynamodb";
import { ConditionFailedError, ConfigurationError, MusicpipeError } from "@musicpipe/core";
import { isConditionalCheckFailed, type RetryOptions, retryTransient } from "./retry.js";

/** A DynamoDB item in document-client form. */
export type Item = Record<string, unknown>;

/**
 * An item of a musicpipe table does not have the attributes or types musicpipe writes (it was
 * written by something else, or edited by hand). `table` and `key` name it.
 */
export class TableItemFormatError extends MusicpipeError {
  /** The table holding the item. */
  readonly table: string;
  /** The item's key. */
  readonly key: Readonly<Record<string, unknown>>;

  constructor(table: string, key: Readonly<Record<string, unknown>>, problem: string) {
    super("invalid_table_item", `item ${JSON.stringify(key)} of table '${table}' ${problem}`);
    this.table = table;
    this.key = key;
  }
}

/**
 * A copy of `value` without `undefined` object properties, at any depth. Items are built this
 * way so that writes do not depend on the document client's `removeUndefinedValues`, which
 * another `DynamoDBDocumentClient.from()` over the same client could change.
 */
export function withoutUndefined<T>(value: T): T {
  if (Array.isArray(value)) return value.map(withoutUndefined) as T;
  if (typeof value !== "object" || value === null) return value;
  const copy: Record<string, unknown> = {};
  for (const [name, entry] of Object.entries(value)) {
    if (entry !== undefined) copy[name] = withoutUndefined(entry);
  }
  return copy as T;
}

/**
 * A number attribute as a JS number: also when a document client configured with `wrapNumbers`
 * (sharing our client's configuration) returned it wrapped (`NumberValue`) or as a bigint.
 */
function numeric(value: unknown): unknown {
  if (typeof value === "bigint") return Number(value);
  if (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { value?: unknown }).value === "string"
  ) {
    return Number((value as { value: string }).value);
  }
  return value;
}

/** Reads typed attributes of one item, failing with {@link TableItemFormatError}. */
export class ItemReader {
  constructor(
    private readonly table: string,
    private readonly key: Readonly<Record<string, unknown>>,
  ) {}

  fail(problem: string): never {
    throw new TableItemFormatError(this.table, this.key, problem);
  }

  string(value: unknown, name: string): string {
    if (typeof value !== "string") this.fail(`has no string attribute '${name}'`);
    return value;
  }

  optionalString(value: unknown, name: string): string | undefined {
    return value === undefined || value === null ? undefined : this.string(value, name);
  }

  /** A number that must be a safe integer (counts, versions, ranks). */
  integer(raw: unknown, name: string): number {
    const value = numeric(raw);
    if (typeof value !== "number" || !Number.isSafeInteger(value)) {
      this.fail(`has no integer attribute '${name}'`);
    }
    return value;
  }

  optionalInteger(value: unknown, name: string): number | undefined {
    return value === undefined || value === null ? undefined : this.integer(value, name);
  }

  number(raw: unknown, name: string): number {
    const value = numeric(raw);
    if (typeof value !== "number" || !Number.isFinite(value)) this.fail(`has no number attribute '${name}'`);
    return value;
  }

  list(value: unknown, name: string): unknown[] {
    if (!Array.isArray(value)) this.fail(`has no list attribute '${name}'`);
    return value;
  }

  map(value: unknown, name: string): Item {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      this.fail(`has no map attribute '${name}'`);
    }
    return value as Item;
  }

  strings(value: unknown, name: string): string[] {
    return this.list(value, name).map((entry) => this.string(entry, `${name}[]`));
  }
}

/**
 * The `version` of an item as DynamoDB error responses carry it: errors are not unmarshalled by
 * the document client, so the item is in AttributeValue form (`{ N: "3" }`). 0 when absent.
 */
export function versionInError(item: unknown): number {
  const version = (item as Item | undefined)?.version;
  if (typeof version === "number") return version;
  const raw = (version as { N?: unknown } | undefined)?.N;
  return typeof raw === "string" ? Number(raw) : 0;
}

/** The error of a conditional write that found another version than it expected. */
export function versionConflict(
  what: string,
  expected: number,
  found: number,
  options: { readonly file?: string; readonly cause?: unknown } = {},
): ConditionFailedError {
  const state = (version: number) => (version === 0 ? "0 (nothing stored)" : String(version));
  return new ConditionFailedError(
    `${what} refused: expected stored version ${state(expected)}, found ${state(found)}`,
    options,
  );
}

/** `true` when the item has a numeric `version`: musicpipe wrote it, the original Python pipeline did not. */
export function isVersioned(item: Item): boolean {
  return typeof numeric(item.version) === "number";
}

/** The `version` of an item read by the document client; 0 when it has none. */
export function versionOf(item: Item | undefined): number {
  const version = numeric(item?.version);
  return typeof version === "number" ? version : 0;
}

/** Every item of a Query, following `LastEvaluatedKey` across 1 MB pages. */
export async function queryAll(doc: DynamoDBDocumentClient, input: QueryCommandInput): Promise<Item[]> {
  const items: Item[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await doc.send(new QueryCommand({ ...input, ExclusiveStartKey: start }));
    items.push(...((out.Items ?? []) as Item[]));
    start = out.LastEvaluatedKey;
  } while (start !== undefined);
  return items;
}

/** Every item of a Scan, following `LastEvaluatedKey` across 1 MB pages. */
export async function scanAll(doc: DynamoDBDocumentClient, input: ScanCommandInput): Promise<Item[]> {
  const items: Item[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await doc.send(new ScanCommand({ ...input, ExclusiveStartKey: start }));
    items.push(...((out.Items ?? []) as Item[]));
    start = out.LastEvaluatedKey;
  } while (start !== undefined);
  return items;
}

/** Sorts `items` by the UTF-8 bytes of `keyOf(item)`, encoding each key once. */
export function sortByUtf8<T>(items: readonly T[], keyOf: (item: T) => string): T[] {
  return items
    .map((item) => ({ item, order: Buffer.from(keyOf(item), "utf8") }))
    .sort((a, b) => Buffer.compare(a.order, b.order))
    .map(({ item }) => item);
}

/** Fails unless `expectedVersion` is a version number (a non-negative safe integer). */
export function checkExpectedVersion(
  what: string,
  expectedVersion: unknown,
): asserts expectedVersion is number {
  if (typeof expectedVersion !== "number" || !Number.isSafeInteger(expectedVersion) || expectedVersion < 0) {
    throw new ConfigurationError(
      `${what}: expectedVersion must be a non-negative integer, got ${String(expectedVersion)}`,
    );
  }
}

/**
 * Puts `item` if the stored item has version `expectedVersion` (0: none stored), retrying
 * transient errors; a stored item of another version fails with {@link versionConflict}
 * (`what` and `file` name the write in its message).
 */
export async function putVersioned(
  doc: DynamoDBDocumentClient,
  table: string,
  item: Item,
  expectedVersion: number,
  retry: RetryOptions,
  conflict: { readonly what: string; readonly file?: string | undefined },
): Promise<void> {
  try {
    await retryTransient(
      () =>
        doc.send(
          new PutCommand({
            TableName: table,
            Item: item,
            ConditionExpression:
              expectedVersion === 0 ? "attribute_not_exists(#version)" : "#version = :expected",
            ExpressionAttributeNames: { "#version": "version" },
            ...(expectedVersion === 0 ? {} : { ExpressionAttributeValues: { ":expected": expectedVersion } }),
            ReturnValuesOnConditionCheckFailure: "ALL_OLD",
          }),
        ),
      retry,
    );
  } catch (error) {
    if (!isConditionalCheckFailed(error)) throw error;
    const found = versionInError((error as { Item?: unknown }).Item);
    throw versionConflict(conflict.what, expectedVersion, found, {
      ...(conflict.file === undefined ? {} : { file: conflict.file }),
      cause: error,
    });
  }
}
