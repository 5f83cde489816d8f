import { type DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import {
  type KpiPartialState,
  type ObjectStore,
  PartialFormatError,
  type PartialStore,
  type StoredPartial,
} from "@musicpipe/core";
import { batchWriteAll } from "./batch.js";
import { type Item, ItemReader, queryAll, sortByUtf8 } from "./items.js";
import { type RetryOptions, retryTransient } from "./retry.js";

/** Where a partial's state is stored in the object store. */
export function partialObjectKey(prefix: string, listenDate: string, fingerprint: string): string {
  return `${prefix}${listenDate}/${fingerprint}.json`;
}

async function readText(objects: ObjectStore, key: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of objects.get(key)) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString("utf8");
}

interface IndexEntry {
  readonly fingerprint: string;
  readonly fileKey: string;
  readonly objectKey: string;
}

/** Settings of {@link createDynamoDbPartialStore}. */
export interface PartialStoreSettings {
  readonly doc: DynamoDBDocumentClient;
  readonly table: string;
  readonly objects: ObjectStore;
  readonly prefix: string;
  /** How many state objects `listDate` reads ahead. */
  readonly readAhead: number;
  readonly retry: () => RetryOptions;
}

/**
 * {@link PartialStore} with the states in an object store (they can exceed DynamoDB's 400 KB
 * item limit) and an index of them in the MusicpipePartials table (key `listen_date`,
 * `fingerprint`). `put` writes the object first, then the index item, so an indexed partial
 * always has its object; a crash in between leaves an unindexed object that the next `put` of
 * the same partial overwrites.
 */
export function createDynamoDbPartialStore(settings: PartialStoreSettings): PartialStore {
  const { doc, table, objects, prefix, readAhead } = settings;

  async function readPartial(listenDate: string, entry: IndexEntry): Promise<StoredPartial> {
    const text = await readText(objects, entry.objectKey);
    let state: unknown;
    try {
      state = JSON.parse(text);
    } catch (error) {
      throw new PartialFormatError(`partial state object '${entry.objectKey}' is not valid JSON`, {
        file: entry.objectKey,
        cause: error,
      });
    }
    if (typeof state !== "object" || state === null || Array.isArray(state)) {
      throw new PartialFormatError(`partial state object '${entry.objectKey}' does not hold a JSON object`, {
        file: entry.objectKey,
      });
    }
    return {
      listenDate,
      fingerprint: entry.fingerprint,
      fileKey: entry.fileKey,
      state: state as KpiPartialState,
    };
  }

  /** Writes the state object and returns the index item that points at it. */
  async function storeState(partial: StoredPartial): Promise<Item> {
    const objectKey = partialObjectKey(prefix, partial.listenDate, partial.fingerprint);
    const body = JSON.stringify(partial.state);
    await objects.put(objectKey, body, { contentType: "application/json" });
    return {
      listen_date: partial.listenDate,
      fingerprint: partial.fingerprint,
      file_key: partial.fileKey,
      object_key: objectKey,
      size: Buffer.byteLength(body, "utf8"),
    };
  }

  return {
    async put(partial) {
      const item = await storeState(partial);
      await retryTransient(
        () => doc.send(new PutCommand({ TableName: table, Item: item })),
        settings.retry(),
      );
    },

    async putMany(partials) {
      // One index item per (date, fingerprint): later entries for a key replace earlier ones.
      const latest = new Map(partials.map((p) => [`${p.listenDate}/${p.fingerprint}`, p]));
      const items: Item[] = [];
      for (const partial of latest.values()) items.push(await storeState(partial));
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
        items.map((item: Item): IndexEntry => {
          const read = new ItemReader(table, { listen_date: listenDate, fingerprint: item.fingerprint });
          return {
            fingerprint: read.string(item.fingerprint, "fingerprint"),
            fileKey: read.string(item.file_key, "file_key"),
            objectKey: read.string(item.object_key, "object_key"),
          };
        }),
        (entry) => entry.fingerprint,
      );
      // Read a few objects ahead, in order; memory holds at most `readAhead` states at once.
      const pending: Promise<StoredPartial>[] = [];
      let next = 0;
      const fill = () => {
        while (pending.length < readAhead && next < entries.length) {
          const read = readPartial(listenDate, entries[next++] as IndexEntry);
          // Rejections are seen when awaited; one left behind by an early stop is not an error.
          read.catch(() => undefined);
          pending.push(read);
        }
      };
      fill();
      while (pending.length > 0) {
        const partial = await (pending.shift() as Promise<StoredPartial>);
        fill();
        yield partial;
      }
    },
  };
}
