import { DeleteCommand, type DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { ObjectStore, PartialEntry, PartialStore, StoredPartial } from "@musicpipe/core";
import { batchWriteAll } from "./batch.js";
import { type Item, ItemReader, queryAll, sortByUtf8 } from "./items.js";
import { type RetryOptions, retryTransient } from "./retry.js";

/** Where a partial's blob is stored in the object store. */
export function partialObjectKey(prefix: string, listenDate: string, fingerprint: string): string {
  return `${prefix}${listenDate}/${fingerprint}.mpk`;
}

async function readBytes(objects: ObjectStore, key: string): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of objects.get(key)) chunks.push(Buffer.from(chunk));
  return new Uint8Array(Buffer.concat(chunks));
}

/** Settings of {@link createDynamoDbPartialStore}. */
export interface PartialStoreSettings {
  readonly doc: DynamoDBDocumentClient;
  readonly table: string;
  readonly objects: ObjectStore;
  readonly prefix: string;
  readonly retry: () => RetryOptions;
}

/**
 * {@link PartialStore} with the blobs in an object store (they can exceed DynamoDB's 400 KB
 * item limit) and an index of them in the MusicpipePartials table (key `listen_date`,
 * `fingerprint`). `put` writes the object first, then the index item, so an indexed partial
 * always has its object; a crash in between leaves an unindexed object that the next `put` of
 * the same partial overwrites. `delete` removes the index item first, then the object.
 */
export function createDynamoDbPartialStore(settings: PartialStoreSettings): PartialStore {
  const { doc, table, objects, prefix } = settings;

  /** Writes the blob and returns the index item that points at it. */
  async function storeBlob(partial: StoredPartial): Promise<Item> {
    const objectKey = partialObjectKey(prefix, partial.listenDate, partial.fingerprint);
    await objects.put(objectKey, partial.blob, { contentType: "application/octet-stream" });
    return {
      listen_date: partial.listenDate,
      fingerprint: partial.fingerprint,
      file_key: partial.fileKey,
      object_key: objectKey,
      size: partial.blob.length,
    };
  }

  return {
    async put(partial) {
      const item = await storeBlob(partial);
      await retryTransient(
        () => doc.send(new PutCommand({ TableName: table, Item: item })),
        settings.retry(),
      );
    },

    async putMany(partials) {
      // One index item per (date, fingerprint): later entries for a key replace earlier ones.
      const latest = new Map(partials.map((p) => [`${p.listenDate}/${p.fingerprint}`, p]));
      const items: Item[] = [];
      for (const partial of latest.values()) items.push(await storeBlob(partial));
      await batchWriteAll(
        doc,
        { [table]: items.map((Item) => ({ PutRequest: { Item } })) },
        {
          timeBudgetMs: Math.max(1, settings.retry().deadline - Date.now()),
          keyAttributes: { [table]: ["listen_date", "fingerprint"] },
        },
      );
    },

    async *listDate(listenDate) {
      const items = await queryAll(doc, {
        TableName: table,
        KeyConditionExpression: "listen_date = :date",
        ExpressionAttributeValues: { ":date": listenDate },
        ConsistentRead: true,
      });
      const entries = sortByUtf8(
        items.map((item: Item): PartialEntry => {
          const read = new ItemReader(table, { listen_date: listenDate, fingerprint: item.fingerprint });
          const objectKey = read.string(item.object_key, "object_key");
          return {
            listenDate,
            fingerprint: read.string(item.fingerprint, "fingerprint"),
            fileKey: read.string(item.file_key, "file_key"),
            read: () => readBytes(objects, objectKey),
          };
        }),
        (entry) => entry.fingerprint,
      );
      yield* entries;
    },

    async delete(listenDate, fingerprint) {
      await retryTransient(
        () =>
          doc.send(new DeleteCommand({ TableName: table, Key: { listen_date: listenDate, fingerprint } })),
        settings.retry(),
      );
      await objects.delete(partialObjectKey(prefix, listenDate, fingerprint));
    },
  };
}
