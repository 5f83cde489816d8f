import {
  ConditionFailedError,
  InvalidKeyError,
  type ObjectInfo,
  ObjectNotFoundError,
  type ObjectStore,
} from "@musicpipe/core";
import { describe, expect, it } from "vitest";
import { bytes, chunks, collect, forEachLimited, readBytes, sortUtf8, uniqueNamespace } from "./helpers.js";

/** What an object store adapter can do beyond the required minimum; the suite skips the rest. */
export interface ObjectStoreCapabilities {
  /**
   * `copy` honours `ifMatch`.
   * @default true
   */
  readonly copyIfMatch?: boolean | undefined;
  /**
   * `get` honours a byte range.
   * @default true
   */
  readonly ranges?: boolean | undefined;
  /**
   * The etag is a function of the content: a copy has its source's etag, and rewriting the
   * same bytes keeps it (S3 single-part uploads, the memory store; not the local store).
   * @default false
   */
  readonly contentEtag?: boolean | undefined;
  /**
   * Keys that could leave a folder (`../x`, `/x`, `a//b`, NUL, backslash) fail with
   * `InvalidKeyError` (the memory and local stores).
   * @default false
   */
  readonly rejectsUnsafeKeys?: boolean | undefined;
  /**
   * `list` yields keys in ascending UTF-8 byte order, like S3. When false (s3rver, which walks
   * its folders: `dir/x` before `dir x`), the suite still checks that every key is listed.
   * @default true
   */
  readonly utf8ListOrder?: boolean | undefined;
  /**
   * The store has `move` (one step: the memory and local stores).
   * @default false
   */
  readonly move?: boolean | undefined;
}

/** Options of {@link runObjectStoreConformance}. */
export interface ObjectStoreConformanceOptions {
  /** Names the suite in the test report. */
  readonly name: string;
  /**
   * Builds the store under test; called inside each test, so a skipped suite builds nothing.
   * Tests write only under a prefix of their own, so stores may share a bucket.
   */
  readonly create: () => Promise<ObjectStore> | ObjectStore;
  /** @default all optional capabilities at their defaults */
  readonly capabilities?: ObjectStoreCapabilities | undefined;
  /**
   * Skips the whole suite, e.g. when the server it needs is not running.
   * @default false
   */
  readonly skip?: boolean | undefined;
}

/** Keys with characters that need escaping in URLs, query strings or file systems. */
const SPECIAL_NAMES = [
  "with space.csv",
  "plus+and&equals=tilde~.csv",
  "percent%20(paren)[bracket].csv",
  "hash#comma,semi;colon:at@dollar$.csv",
  "unicode-é-ü-中文-😀.csv",
  "UPPER.csv",
  "upper.csv",
];

/** Names whose byte order differs from JS string order, or from a naive folder walk. */
const ORDER_NAMES = [
  "dir x",
  "dir-x",
  "dir.x",
  "dir0",
  "dirA",
  "dir/x/y",
  "dir/x-y",
  "z",
  "é",
  "\uff61",
  "😀",
  "~",
];

function keysOf(infos: readonly ObjectInfo[]): string[] {
  return infos.map((info) => info.key);
}

/**
 * Reads what `make` returns. The port lets a get or list fail at the call or when iteration
 * starts; this turns both into a rejection.
 */
async function drain<T>(make: () => AsyncIterable<T>): Promise<T[]> {
  return collect(make());
}

function sameBytes(actual: Uint8Array, expected: Uint8Array): void {
  expect(actual.byteLength).toBe(expected.byteLength);
  // Compare without vitest's deep diff, which is slow on megabytes.
  expect(Buffer.compare(Buffer.from(actual), Buffer.from(expected))).toBe(0);
}

/**
 * Registers the {@link ObjectStore} conformance suite with vitest: every adapter must pass it.
 *
 * @example
 * // tests/conformance.test.ts
 * runObjectStoreConformance({ name: "memory", create: () => createMemoryObjectStore(),
 *   capabilities: { contentEtag: true, rejectsUnsafeKeys: true } });
 */
export function runObjectStoreConformance(options: ObjectStoreConformanceOptions): void {
  const copyIfMatch = options.capabilities?.copyIfMatch ?? true;
  const ranges = options.capabilities?.ranges ?? true;
  const contentEtag = options.capabilities?.contentEtag ?? false;
  const rejectsUnsafeKeys = options.capabilities?.rejectsUnsafeKeys ?? false;
  const utf8ListOrder = options.capabilities?.utf8ListOrder ?? true;

  const setup = async () => ({ store: await options.create(), ns: uniqueNamespace() });

  describe.skipIf(options.skip ?? false)(`ObjectStore conformance: ${options.name}`, () => {
    describe("put and get", () => {
      it("reads back a text object byte for byte, as UTF-8", async () => {
        const { store, ns } = await setup();
        const text = "user_id,track_id,listen_time\nü1,t😀,2025-06-22 10:00:00\n";
        const { etag } = await store.put(`${ns}/text.csv`, text);
        expect(typeof etag).toBe("string");
        expect(etag.length).toBeGreaterThan(0);
        sameBytes(await readBytes(store.get(`${ns}/text.csv`)), Buffer.from(text, "utf8"));
      });

      it("round-trips binary bytes, every byte value included", async () => {
        const { store, ns } = await setup();
        const data = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), bytes(4096)]);
        await store.put(`${ns}/binary.bin`, data);
        sameBytes(await readBytes(store.get(`${ns}/binary.bin`)), data);
      });

      it("round-trips an empty object", async () => {
        const { store, ns } = await setup();
        await store.put(`${ns}/empty`, new Uint8Array(0));
        expect((await store.head(`${ns}/empty`))?.size).toBe(0);
        sameBytes(await readBytes(store.get(`${ns}/empty`)), Buffer.alloc(0));
      });

      it("round-trips a multi-megabyte object", async () => {
        const { store, ns } = await setup();
        const data = bytes(5 * 1024 * 1024 + 7);
        await store.put(`${ns}/big.bin`, data);
        expect((await store.head(`${ns}/big.bin`))?.size).toBe(data.byteLength);
        sameBytes(await readBytes(store.get(`${ns}/big.bin`)), data);
      });

      it("stores a body streamed from an AsyncIterable", async () => {
        const { store, ns } = await setup();
        const data = bytes(3 * 1024 * 1024 + 11);
        const { etag } = await store.put(
          `${ns}/streamed.bin`,
          chunks(data, [1, 1000, 65_537, 1024 * 1024 + 3]),
        );
        const info = await store.head(`${ns}/streamed.bin`);
        expect(info?.size).toBe(data.byteLength);
        expect(info?.etag).toBe(etag);
        sameBytes(await readBytes(store.get(`${ns}/streamed.bin`)), data);
      });

      it("is not changed by the caller changing the buffer it wrote", async () => {
        const { store, ns } = await setup();
        const data = Buffer.from("original");
        await store.put(`${ns}/owned`, data);
        data.write("CHANGED!");
        expect((await readBytes(store.get(`${ns}/owned`))).toString()).toBe("original");
      });

      it("fails a get of a missing key with ObjectNotFoundError", async () => {
        const { store, ns } = await setup();
        await expect(drain(() => store.get(`${ns}/missing.csv`))).rejects.toBeInstanceOf(ObjectNotFoundError);
      });

      it("overwrites an object, changing its etag", async () => {
        const { store, ns } = await setup();
        const first = await store.put(`${ns}/rewritten`, "first version");
        const second = await store.put(`${ns}/rewritten`, "second version, longer");
        expect(second.etag).not.toBe(first.etag);
        expect((await store.head(`${ns}/rewritten`))?.etag).toBe(second.etag);
        expect((await readBytes(store.get(`${ns}/rewritten`))).toString()).toBe("second version, longer");
        const third = await store.put(`${ns}/rewritten`, "third version, longer!");
        expect(third.etag).not.toBe(second.etag);
      });

      it.skipIf(!contentEtag)("gives equal content an equal etag", async () => {
        const { store, ns } = await setup();
        const first = await store.put(`${ns}/one`, "same bytes");
        const second = await store.put(`${ns}/two`, chunks(Buffer.from("same bytes"), [3]));
        expect(second.etag).toBe(first.etag);
      });
    });

    describe.skipIf(!ranges)("byte ranges", () => {
      const size = 2 * 1024 * 1024 + 5;
      const prepare = async () => {
        const { store, ns } = await setup();
        const data = bytes(size);
        await store.put(`${ns}/ranged.bin`, data);
        return { store, key: `${ns}/ranged.bin`, data };
      };

      it("reads the first bytes", async () => {
        const { store, key, data } = await prepare();
        sameBytes(await readBytes(store.get(key, { range: { start: 0, end: 10 } })), data.subarray(0, 10));
      });

      it("reads a middle range across chunk boundaries", async () => {
        const { store, key, data } = await prepare();
        const range = { start: 65_000, end: 1_300_001 };
        sameBytes(await readBytes(store.get(key, { range })), data.subarray(range.start, range.end));
      });

      it("reads from an offset to the end when end is omitted", async () => {
        const { store, key, data } = await prepare();
        sameBytes(await readBytes(store.get(key, { range: { start: size - 5 } })), data.subarray(size - 5));
      });

      it("reads a single byte", async () => {
        const { store, key, data } = await prepare();
        sameBytes(
          await readBytes(store.get(key, { range: { start: 123, end: 124 } })),
          data.subarray(123, 124),
        );
      });

      it("stops at the end of the object when end is past it", async () => {
        const { store, key, data } = await prepare();
        const got = await readBytes(store.get(key, { range: { start: size - 3, end: size + 100 } }));
        sameBytes(got, data.subarray(size - 3));
      });

      it("fails a ranged get of a missing key with ObjectNotFoundError", async () => {
        const { store, ns } = await setup();
        await expect(
          drain(() => store.get(`${ns}/missing`, { range: { start: 0, end: 1 } })),
        ).rejects.toBeInstanceOf(ObjectNotFoundError);
      });
    });

    describe("head", () => {
      it("reports size, etag and modification time", async () => {
        const { store, ns } = await setup();
        const before = Date.now();
        const { etag } = await store.put(`${ns}/head.csv`, "12345");
        const info = await store.head(`${ns}/head.csv`);
        expect(info).toMatchObject({ key: `${ns}/head.csv`, size: 5, etag });
        expect(info?.lastModified).toBeInstanceOf(Date);
        // Generous: servers and file systems keep their own clocks and granularity.
        expect(Math.abs((info?.lastModified.getTime() ?? 0) - before)).toBeLessThan(15 * 60 * 1000);
      });

      it("returns undefined for a missing key", async () => {
        const { store, ns } = await setup();
        expect(await store.head(`${ns}/missing.csv`)).toBeUndefined();
      });

      it("returns undefined for a prefix of other keys", async () => {
        const { store, ns } = await setup();
        await store.put(`${ns}/folder/file.csv`, "x");
        expect(await store.head(`${ns}/folder`)).toBeUndefined();
      });
    });

    describe("list", () => {
      it("lists exactly the keys under a prefix, nested ones included", async () => {
        const { store, ns } = await setup();
        const keys = [
          `${ns}/data/raw/streams/a.csv`,
          `${ns}/data/raw/streams/b.csv.gz`,
          `${ns}/data/raw/streams/2025/06/c.csv`,
          `${ns}/data/raw/songs/songs.csv`,
          `${ns}/data/rawish.csv`,
          `${ns}/other.csv`,
        ];
        for (const key of keys) await store.put(key, key);
        expect(keysOf(await collect(store.list(`${ns}/data/raw/streams/`)))).toEqual(
          sortUtf8(keys.slice(0, 3)),
        );
        expect(keysOf(await collect(store.list(`${ns}/data/raw`)))).toEqual(sortUtf8(keys.slice(0, 5)));
        expect(keysOf(await collect(store.list(`${ns}/`)))).toEqual(sortUtf8(keys));
        expect(keysOf(await collect(store.list(`${ns}/data/raw/streams/a`)))).toEqual([keys[0]]);
        expect(await collect(store.list(`${ns}/nothing/`))).toEqual([]);
      });

      it("reports each object's size and etag", async () => {
        const { store, ns } = await setup();
        const { etag } = await store.put(`${ns}/sized.csv`, "1234567");
        const [info] = await collect(store.list(`${ns}/`));
        expect(info).toMatchObject({ key: `${ns}/sized.csv`, size: 7, etag });
        expect(info?.lastModified).toBeInstanceOf(Date);
      });

      it("handles keys with spaces, unicode and URL-special characters", async () => {
        const { store, ns } = await setup();
        const keys = SPECIAL_NAMES.map((name) => `${ns}/special/${name}`);
        for (const key of keys) await store.put(key, `content of ${key}`);
        expect(keysOf(await collect(store.list(`${ns}/special/`)))).toEqual(sortUtf8(keys));
        for (const key of keys) {
          expect((await store.head(key))?.key).toBe(key);
          expect((await readBytes(store.get(key))).toString()).toBe(`content of ${key}`);
        }
        expect(keysOf(await collect(store.list(`${ns}/special/with sp`)))).toEqual([
          `${ns}/special/with space.csv`,
        ]);
        expect(keysOf(await collect(store.list(`${ns}/special/unicode-é`)))).toEqual([keys[4]]);
      });

      it("lists in ascending order of UTF-8 bytes", async () => {
        const { store, ns } = await setup();
        const keys = ORDER_NAMES.map((name) => `${ns}/${name}`);
        for (const key of [...keys].reverse()) await store.put(key, "x");
        const listed = keysOf(await collect(store.list(`${ns}/`)));
        if (!utf8ListOrder) {
          expect(sortUtf8(listed)).toEqual(sortUtf8(keys));
          return;
        }
        expect(listed).toEqual(sortUtf8(keys));
        // Not JS string order: U+FF61 sorts before the emoji in UTF-8, after it in UTF-16.
        expect(listed.indexOf(`${ns}/\uff61`)).toBeLessThan(listed.indexOf(`${ns}/😀`));
        expect(listed.indexOf(`${ns}/dir.x`)).toBeLessThan(listed.indexOf(`${ns}/dir/x-y`));
      });

      it("lists more than 1,000 objects", async () => {
        const { store, ns } = await setup();
        const keys = Array.from({ length: 1_050 }, (_, i) => `${ns}/many/${String(i).padStart(4, "0")}.csv`);
        await forEachLimited(keys, 32, (key) => store.put(key, "x"));
        const listed = keysOf(await collect(store.list(`${ns}/many/`)));
        expect(listed.length).toBe(keys.length);
        expect(listed).toEqual(keys);
      });
    });

    describe("copy", () => {
      it("copies an object, leaving the source in place", async () => {
        const { store, ns } = await setup();
        const data = bytes(100_000);
        const source = await store.put(`${ns}/from/a.bin`, data);
        const copied = await store.copy(`${ns}/from/a.bin`, `${ns}/to/a.bin`);
        expect((await store.head(`${ns}/to/a.bin`))?.etag).toBe(copied.etag);
        sameBytes(await readBytes(store.get(`${ns}/to/a.bin`)), data);
        expect((await store.head(`${ns}/from/a.bin`))?.etag).toBe(source.etag);
        if (contentEtag) expect(copied.etag).toBe(source.etag);
      });

      it("overwrites an existing destination", async () => {
        const { store, ns } = await setup();
        await store.put(`${ns}/src`, "new");
        await store.put(`${ns}/dst`, "old content");
        await store.copy(`${ns}/src`, `${ns}/dst`);
        expect((await readBytes(store.get(`${ns}/dst`))).toString()).toBe("new");
      });

      it.skipIf(!copyIfMatch)("copies when ifMatch is the source's etag", async () => {
        const { store, ns } = await setup();
        const { etag } = await store.put(`${ns}/src.csv`, "data");
        await store.copy(`${ns}/src.csv`, `${ns}/dst.csv`, { ifMatch: etag });
        expect((await readBytes(store.get(`${ns}/dst.csv`))).toString()).toBe("data");
      });

      it.skipIf(!copyIfMatch)(
        "fails with ConditionFailedError when ifMatch is stale, copying nothing",
        async () => {
          const { store, ns } = await setup();
          const { etag: stale } = await store.put(`${ns}/src.csv`, "first");
          await store.put(`${ns}/src.csv`, "second, rewritten");
          await expect(
            store.copy(`${ns}/src.csv`, `${ns}/dst.csv`, { ifMatch: stale }),
          ).rejects.toBeInstanceOf(ConditionFailedError);
          expect(await store.head(`${ns}/dst.csv`)).toBeUndefined();
        },
      );

      it("fails a copy of a missing source with ObjectNotFoundError", async () => {
        const { store, ns } = await setup();
        await expect(store.copy(`${ns}/missing`, `${ns}/dst`)).rejects.toBeInstanceOf(ObjectNotFoundError);
        expect(await store.head(`${ns}/dst`)).toBeUndefined();
      });
    });

    describe.skipIf(!(options.capabilities?.move ?? false))("move", () => {
      it("moves an object: the target holds its bytes, the source is gone", async () => {
        const { store, ns } = await setup();
        const data = bytes(50_000);
        const { etag } = await store.put(`${ns}/from/a.bin`, data);
        await store.move!(`${ns}/from/a.bin`, `${ns}/to/a.bin`, { ifMatch: etag });
        expect(await store.head(`${ns}/from/a.bin`)).toBeUndefined();
        sameBytes(await readBytes(store.get(`${ns}/to/a.bin`)), data);
      });

      it("never replaces an existing target: ConditionFailedError, both objects kept", async () => {
        const { store, ns } = await setup();
        const { etag } = await store.put(`${ns}/from/a.csv`, "the delivery");
        await store.put(`${ns}/to/a.csv`, "another file");
        await expect(
          store.move!(`${ns}/from/a.csv`, `${ns}/to/a.csv`, { ifMatch: etag }),
        ).rejects.toBeInstanceOf(ConditionFailedError);
        expect((await readBytes(store.get(`${ns}/from/a.csv`))).toString("utf8")).toBe("the delivery");
        expect((await readBytes(store.get(`${ns}/to/a.csv`))).toString("utf8")).toBe("another file");
      });

      it("lets one of two concurrent moves to one target win; the other fails, nothing is lost", async () => {
        const { store, ns } = await setup();
        const a = await store.put(`${ns}/a/same.csv`, "file a");
        const b = await store.put(`${ns}/b/same.csv`, "file b");
        const results = await Promise.allSettled([
          store.move!(`${ns}/a/same.csv`, `${ns}/to/same.csv`, { ifMatch: a.etag }),
          store.move!(`${ns}/b/same.csv`, `${ns}/to/same.csv`, { ifMatch: b.etag }),
        ]);
        expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
        const texts = await Promise.all(
          [`${ns}/a/same.csv`, `${ns}/b/same.csv`, `${ns}/to/same.csv`].map(async (key) =>
            (await store.head(key)) === undefined
              ? undefined
              : (await readBytes(store.get(key))).toString("utf8"),
          ),
        );
        expect(texts.filter((t) => t !== undefined).sort()).toEqual(["file a", "file b"]);
      });

      it("refuses a move whose ifMatch is not the source's etag, moving nothing", async () => {
        const { store, ns } = await setup();
        const { etag } = await store.put(`${ns}/src.csv`, "one");
        await store.put(`${ns}/src.csv`, "two, longer");
        const stale = etag === (await store.head(`${ns}/src.csv`))?.etag ? "stale" : etag;
        await expect(
          store.move!(`${ns}/src.csv`, `${ns}/dst.csv`, { ifMatch: stale }),
        ).rejects.toBeInstanceOf(ConditionFailedError);
        expect(await store.head(`${ns}/dst.csv`)).toBeUndefined();
        expect((await readBytes(store.get(`${ns}/src.csv`))).toString("utf8")).toBe("two, longer");
      });

      it("fails a move of a missing source with ObjectNotFoundError", async () => {
        const { store, ns } = await setup();
        await expect(store.move!(`${ns}/missing`, `${ns}/dst`)).rejects.toBeInstanceOf(ObjectNotFoundError);
      });
    });

    describe("delete", () => {
      it("deletes an object", async () => {
        const { store, ns } = await setup();
        await store.put(`${ns}/gone.csv`, "x");
        await store.put(`${ns}/kept.csv`, "y");
        await store.delete(`${ns}/gone.csv`);
        expect(await store.head(`${ns}/gone.csv`)).toBeUndefined();
        await expect(drain(() => store.get(`${ns}/gone.csv`))).rejects.toBeInstanceOf(ObjectNotFoundError);
        expect(keysOf(await collect(store.list(`${ns}/`)))).toEqual([`${ns}/kept.csv`]);
      });

      it("is idempotent: deleting a missing object succeeds", async () => {
        const { store, ns } = await setup();
        await store.put(`${ns}/twice.csv`, "x");
        await store.delete(`${ns}/twice.csv`);
        await expect(store.delete(`${ns}/twice.csv`)).resolves.toBeUndefined();
        await expect(store.delete(`${ns}/never/written.csv`)).resolves.toBeUndefined();
      });

      it("with ifMatch, deletes only that version: a replaced object is kept", async () => {
        const { store, ns } = await setup();
        const first = await store.put(`${ns}/key.csv`, "first delivery");
        const second = await store.put(`${ns}/key.csv`, "second delivery, longer");
        await expect(store.delete(`${ns}/key.csv`, { ifMatch: first.etag })).rejects.toBeInstanceOf(
          ConditionFailedError,
        );
        expect((await readBytes(store.get(`${ns}/key.csv`))).toString("utf8")).toBe(
          "second delivery, longer",
        );
        await store.delete(`${ns}/key.csv`, { ifMatch: second.etag });
        expect(await store.head(`${ns}/key.csv`)).toBeUndefined();
        await expect(store.delete(`${ns}/key.csv`, { ifMatch: second.etag })).resolves.toBeUndefined();
      });
    });

    describe.skipIf(!rejectsUnsafeKeys)("unsafe keys", () => {
      const unsafe = ["", "../x", "/etc/passwd", "a/../../b", "a/./b", ".", "a\0b", "a//b", "a\\b", "a/"];

      it.each(unsafe.map((key) => [JSON.stringify(key), key] as const))(
        "refuses the key %s with InvalidKeyError",
        async (_, key) => {
          const { store } = await setup();
          await expect(store.put(key, "x")).rejects.toBeInstanceOf(InvalidKeyError);
          await expect(store.head(key)).rejects.toBeInstanceOf(InvalidKeyError);
          await expect(drain(() => store.get(key))).rejects.toBeInstanceOf(InvalidKeyError);
          await expect(store.delete(key)).rejects.toBeInstanceOf(InvalidKeyError);
          await expect(store.copy(key, "safe")).rejects.toBeInstanceOf(InvalidKeyError);
        },
      );

      it("refuses a list prefix that leaves the store", async () => {
        const { store } = await setup();
        await expect(drain(() => store.list("../"))).rejects.toBeInstanceOf(InvalidKeyError);
        await expect(drain(() => store.list("/etc/"))).rejects.toBeInstanceOf(InvalidKeyError);
      });
    });
  });
}
