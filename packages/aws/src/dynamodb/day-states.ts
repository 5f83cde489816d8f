import { type DynamoDBDocumentClient, GetCommand } from "@aws-sdk/lib-dynamodb";
import type { DayStatePointer, DayStateStore } from "@musicpipe/core";
import { checkExpectedVersion, type Item, ItemReader, isVersioned, putVersioned, scanAll } from "./items.js";
import type { RetryOptions } from "./retry.js";

function pointerItem(pointer: DayStatePointer): Item {
  return {
    listen_date: pointer.listenDate,
    shard: pointer.shard,
    shards: pointer.shards,
    state_key: pointer.stateKey,
    summary_bytes: pointer.summaryBytes,
    source_count: pointer.sourceCount,
    sources_digest: pointer.sourcesDigest,
    catalog: pointer.catalog,
    updated_at: pointer.updatedAt,
    version: pointer.version,
  };
}

function pointerOf(table: string, item: Item): DayStatePointer {
  const read = new ItemReader(table, { listen_date: item.listen_date, shard: item.shard });
  return {
    listenDate: read.string(item.listen_date, "listen_date"),
    shard: read.integer(item.shard, "shard"),
    shards: read.integer(item.shards, "shards"),
    stateKey: read.string(item.state_key, "state_key"),
    summaryBytes: read.integer(item.summary_bytes, "summary_bytes"),
    sourceCount: read.integer(item.source_count, "source_count"),
    sourcesDigest: read.string(item.sources_digest, "sources_digest"),
    catalog: read.string(item.catalog, "catalog"),
    updatedAt: read.string(item.updated_at, "updated_at"),
    version: read.integer(item.version, "version"),
  };
}

/**
 * {@link DayStateStore} on the MusicpipeDayStates table (key `listen_date`, `shard`): one small
 * item per shard of a date, pointing at the state blob in the object store; every write is a
 * PutItem conditional on the stored `version`. `list` scans the table.
 */
export function createDynamoDbDayStateStore(
  doc: DynamoDBDocumentClient,
  table: string,
  retry: () => RetryOptions,
): DayStateStore {
  return {
    async get(listenDate, shard) {
      const out = await doc.send(
        new GetCommand({ TableName: table, Key: { listen_date: listenDate, shard }, ConsistentRead: true }),
      );
      const item = out.Item as Item | undefined;
      return item === undefined || !isVersioned(item) ? undefined : pointerOf(table, item);
    },

    async put(pointer, expectedVersion) {
      const what = `day state write of listen date '${pointer.listenDate}' shard ${pointer.shard}`;
      checkExpectedVersion(what, expectedVersion);
      const item = pointerItem({ ...pointer, version: expectedVersion + 1 });
      // The same checks on every adapter (a malformed pointer is refused before it is sent).
      pointerOf(table, item);
      await putVersioned(doc, table, item, expectedVersion, retry(), { what });
      return pointerOf(table, item);
    },

    async *list() {
      const items = await scanAll(doc, { TableName: table, ConsistentRead: true });
      const pointers = items.filter(isVersioned).map((item) => pointerOf(table, item));
      pointers.sort((a, b) =>
        a.listenDate < b.listenDate ? -1 : a.listenDate > b.listenDate ? 1 : a.shard - b.shard,
      );
      yield* pointers;
    },
  };
}
