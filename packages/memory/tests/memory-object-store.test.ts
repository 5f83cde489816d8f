import { InvalidKeyError } from "@musicpipe/core";
import { Volume } from "memfs";
import { describe, expect, it } from "vitest";
import { createMemoryObjectStore } from "../src/index.js";

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

describe("createMemoryObjectStore", () => {
  it("serves objects seeded into its volume, with the MD5 of their content as etag", async () => {
    const volume = Volume.fromJSON({ "/data/raw/streams/a.csv": "hello" });
    const store = createMemoryObjectStore({ volume });
    expect(await store.head("data/raw/streams/a.csv")).toMatchObject({
      size: 5,
      etag: "5d41402abc4b2a76b9719d911017c592",
    });
    expect((await collect(store.list(""))).map((i) => i.key)).toEqual(["data/raw/streams/a.csv"]);
  });

  it("writes objects as files of its volume", async () => {
    const volume = new Volume();
    const store = createMemoryObjectStore({ volume });
    await store.put("a/b.csv", "x");
    expect(volume.toJSON()).toEqual({ "/a/b.csv": "x" });
  });

  it("changes the etag when the volume's file changes, even in place", async () => {
    const volume = new Volume();
    const store = createMemoryObjectStore({ volume });
    const { etag } = await store.put("a", "one");
    volume.writeFileSync("/a", "two");
    expect((await store.head("a"))?.etag).not.toBe(etag);
  });

  it("yields chunks of at most 64 KiB that the caller may change", async () => {
    const store = createMemoryObjectStore();
    await store.put("big", Buffer.alloc(200_000, 1));
    const chunks = await collect(store.get("big"));
    expect(chunks.map((c) => c.byteLength)).toEqual([65_536, 65_536, 65_536, 3_392]);
    chunks[0]?.fill(9);
    expect((await collect(store.get("big", { range: { start: 0, end: 1 } })))[0]?.[0]).toBe(1);
  });

  it("refuses a key that is a folder of other objects, or lies under an object", async () => {
    const store = createMemoryObjectStore();
    await store.put("a/b", "x");
    await expect(store.put("a", "x")).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(store.copy("a/b", "a")).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(store.put("a/b/c", "x")).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(store.delete("a")).resolves.toBeUndefined();
    expect(await store.head("a/b")).toMatchObject({ size: 1 });
  });
});
