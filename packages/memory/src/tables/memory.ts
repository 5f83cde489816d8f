import {
  type DayKpis,
  type DayStatePointer,
  type FileRecord,
  isFinished,
  ObjectNotFoundError,
  type StoredPartial,
} from "@musicpipe/core";
import { checkExpectedVersion, checkPointer, sortByUtf8, type Tables, versionConflict } from "./shared.js";

/**
 * The table ports in memory (Maps): for tests and embedding. Conditional writes follow the
 * port contracts: a write with `expectedVersion` stores `expectedVersion + 1` if the stored
 * version is `expectedVersion` (0 when nothing is stored), otherwise it fails with
 * `ConditionFailedError` naming the key and both versions. Each write checks and stores in one
 * synchronous step, so concurrent writers with the same expected version cannot both win.
 * Everything going in or out is deep-copied: callers cannot change stored state.
 *
 * @example
 * const { kpis, files, partials, days } = createMemoryTables();
 * await kpis.putDay({ listenDate: "2025-06-22", genreStats: [], topSongs: [], topGenres: [],
 *   sourceCount: 0, sourcesDigest: "0".repeat(64), updatedAt: new Date().toISOString() }, 0); // version 1
 */
export function createMemoryTables(): Tables {
  const days = new Map<string, DayKpis>();
  const records = new Map<string, FileRecord>();
  const partialsByDate = new Map<string, Map<string, StoredPartial>>();
  const pointers = new Map<string, DayStatePointer>();
  const pointerKey = (listenDate: string, shard: number) => `${listenDate}\u0000${shard}`;

  return {
    kpis: {
      async getDay(listenDate) {
        const day = days.get(listenDate);
        return day === undefined ? undefined : structuredClone(day);
      },
      async putDay(day, expectedVersion) {
        const what = `KPI write of listen date '${day.listenDate}'`;
        checkExpectedVersion(what, expectedVersion);
        const found = days.get(day.listenDate)?.version ?? 0;
        if (found !== expectedVersion) throw versionConflict(what, expectedVersion, found);
        const stored: DayKpis = { ...structuredClone(day), version: expectedVersion + 1 };
        days.set(day.listenDate, stored);
        return structuredClone(stored);
      },
      async *listDates() {
        yield* sortByUtf8([...days.keys()], (date) => date);
      },
    },

    files: {
      async get(fileKey) {
        const record = records.get(fileKey);
        return record === undefined ? undefined : structuredClone(record);
      },
      async put(record, expectedVersion) {
        const what = `file status write of '${record.fileKey}'`;
        checkExpectedVersion(what, expectedVersion);
        const found = records.get(record.fileKey)?.version ?? 0;
        if (found !== expectedVersion) throw versionConflict(what, expectedVersion, found, record.fileKey);
        const stored: FileRecord = { ...structuredClone(record), version: expectedVersion + 1 };
        records.set(record.fileKey, stored);
        return structuredClone(stored);
      },
      async *list() {
        const snapshot = sortByUtf8([...records.values()], (record) => record.fileKey);
        for (const record of snapshot) yield structuredClone(record);
      },
      async *listUnfinished() {
        const open = [...records.values()].filter((record) => !isFinished(record));
        for (const record of sortByUtf8(open, (r) => r.fileKey)) yield structuredClone(record);
      },
    },

    partials: {
      async put(partial) {
        let byFingerprint = partialsByDate.get(partial.listenDate);
        if (byFingerprint === undefined) {
          byFingerprint = new Map();
          partialsByDate.set(partial.listenDate, byFingerprint);
        }
        byFingerprint.set(partial.fingerprint, { ...partial, blob: partial.blob.slice() });
      },
      async *listDate(listenDate) {
        const snapshot = sortByUtf8(
          [...(partialsByDate.get(listenDate)?.values() ?? [])],
          (p) => p.fingerprint,
        );
        for (const partial of snapshot) {
          yield {
            listenDate: partial.listenDate,
            fingerprint: partial.fingerprint,
            fileKey: partial.fileKey,
            read: async () => {
              const stored = partialsByDate.get(listenDate)?.get(partial.fingerprint);
              if (stored === undefined)
                throw new ObjectNotFoundError(`partial ${listenDate}/${partial.fingerprint}`);
              return stored.blob.slice();
            },
          };
        }
      },
      async delete(listenDate, fingerprint) {
        partialsByDate.get(listenDate)?.delete(fingerprint);
      },
    },

    days: {
      async get(listenDate, shard) {
        const pointer = pointers.get(pointerKey(listenDate, shard));
        return pointer === undefined ? undefined : { ...pointer };
      },
      async put(pointer, expectedVersion) {
        const what = `day state write of listen date '${pointer.listenDate}' shard ${pointer.shard}`;
        checkExpectedVersion(what, expectedVersion);
        checkPointer(what, pointer);
        const key = pointerKey(pointer.listenDate, pointer.shard);
        const found = pointers.get(key)?.version ?? 0;
        if (found !== expectedVersion) throw versionConflict(what, expectedVersion, found);
        const stored: DayStatePointer = { ...structuredClone(pointer), version: expectedVersion + 1 };
        pointers.set(key, stored);
        return { ...stored };
      },
      async *list() {
        const all = [...pointers.values()].sort((a, b) =>
          a.listenDate < b.listenDate ? -1 : a.listenDate > b.listenDate ? 1 : a.shard - b.shard,
        );
        for (const pointer of all) yield { ...pointer };
      },
    },
  };
}
