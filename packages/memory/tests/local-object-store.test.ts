import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConditionFailedError, InvalidKeyError, ObjectNotFoundError } from "@musicpipe/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLocalObjectStore, TEMP_FOLDER } from "../src/index.js";

let base: string;
let root: string;

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), "musicpipe-local-store-"));
  root = join(base, "root");
  await mkdir(root);
});
afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

async function read(iterable: AsyncIterable<Uint8Array>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of iterable) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString();
}

/** Every path under `folder`, relative, files and folders. */
async function tree(folder: string): Promise<string[]> {
  return (await readdir(folder, { recursive: true })).sort();
}

describe("createLocalObjectStore", () => {
  it("writes a body that is a view into a larger buffer: exactly the view's bytes", async () => {
    const store = createLocalObjectStore({ root });
    const whole = new Uint8Array(3 * 1024 * 1024 + 20);
    for (let i = 0; i < whole.length; i++) whole[i] = (i * 31 + 7) & 0xff;
    const view = whole.subarray(13, whole.length - 5);
    await store.put("state/blob.bin", view);
    const written = await readFile(join(root, "state/blob.bin"));
    expect(written.length).toBe(view.length);
    expect(Buffer.compare(written, Buffer.from(view.buffer, view.byteOffset, view.length))).toBe(0);
  });

  it("stores key a/b.csv as the file <root>/a/b.csv", async () => {
    const store = createLocalObjectStore({ root });
    await store.put("a/b.csv", "hello");
    // Beside it, only the (empty) folder of writes in progress.
    expect(await tree(root)).toEqual([TEMP_FOLDER, "a", join("a", "b.csv")].sort());
  });

  it("serves files dropped into the folder by hand, with an etag", async () => {
    await mkdir(join(root, "data", "raw"), { recursive: true });
    await writeFile(join(root, "data", "raw", "dropped.csv"), "by hand");
    const store = createLocalObjectStore({ root });
    const info = await store.head("data/raw/dropped.csv");
    expect(info).toMatchObject({ key: "data/raw/dropped.csv", size: 7 });
    expect(info?.etag).toMatch(/^[0-9a-f]+-[0-9a-f]+-[0-9a-f]+$/);
    expect(await read(store.get("data/raw/dropped.csv"))).toBe("by hand");
    expect((await collect(store.list("data/"))).map((i) => i.key)).toEqual(["data/raw/dropped.csv"]);
  });

  it("changes the etag when a file is rewritten by hand", async () => {
    const store = createLocalObjectStore({ root });
    const { etag } = await store.put("file.csv", "version one");
    const path = join(root, "file.csv");
    await writeFile(path, "version two, by hand");
    const rewritten = await store.head("file.csv");
    expect(rewritten?.etag).not.toBe(etag);
    // Same size, in place: a new modification time still changes it.
    await writeFile(path, "version three, by hand");
    const later = new Date(Date.now() + 5_000);
    await utimes(path, later, later);
    const again = await store.head("file.csv");
    expect(again?.etag).not.toBe(rewritten?.etag);
    // And a copy with ifMatch honours the new etag only.
    await expect(store.copy("file.csv", "copy.csv", { ifMatch: etag })).rejects.toBeInstanceOf(
      ConditionFailedError,
    );
    await store.copy("file.csv", "copy.csv", { ifMatch: again!.etag });
    expect(await read(store.get("copy.csv"))).toBe("version three, by hand");
  });

  it.each([
    "../x",
    "/etc/passwd",
    "a/../../b",
    "a\0b",
    "a//b",
    ".",
    "",
    "..",
    "a/..",
    "a\\..\\b",
    "\\x",
    "a/",
    ".musicpipe/files/x.json",
    "a/.musicpipe-tmp-1",
  ])("refuses the key %j with InvalidKeyError and touches nothing", async (key) => {
    const store = createLocalObjectStore({ root });
    await store.put("inside.csv", "x");
    await writeFile(join(base, "outside.csv"), "outside");
    const before = await tree(base);
    await expect(store.put(key, "evil")).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(store.put(key, (async function* () {})())).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(store.head(key)).rejects.toBeInstanceOf(InvalidKeyError);
    expect(() => store.get(key)).toThrow(InvalidKeyError);
    await expect(store.delete(key)).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(store.copy("inside.csv", key)).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(store.copy(key, "inside-copy.csv")).rejects.toBeInstanceOf(InvalidKeyError);
    expect(await tree(base)).toEqual(before);
  });

  it("refuses list prefixes that leave the root", async () => {
    const store = createLocalObjectStore({ root });
    for (const prefix of ["../", "/", "a/../../", "a\0", "a//", "\\"]) {
      expect(() => store.list(prefix), prefix).toThrow(InvalidKeyError);
    }
  });

  it("leaves no partial file and no temporary file when a streamed body fails", async () => {
    const store = createLocalObjectStore({ root });
    await store.put("data/existing.csv", "old content");
    async function* failing() {
      yield Buffer.alloc(300_000, 1);
      throw new Error("connection reset");
    }
    await expect(store.put("data/new.csv", failing())).rejects.toThrow("connection reset");
    await expect(store.put("data/existing.csv", failing())).rejects.toThrow("connection reset");
    expect(await tree(join(root, "data"))).toEqual(["existing.csv"]);
    expect((await collect(store.list(""))).map((i) => i.key)).toEqual(["data/existing.csv"]);
    expect(await read(store.get("data/existing.csv"))).toBe("old content");
  });

  it("skips temporary files, the tables folder and folders in listings", async () => {
    const store = createLocalObjectStore({ root });
    await store.put("data/a.csv", "a");
    await writeFile(join(root, "data", ".musicpipe-tmp-123"), "half written");
    await mkdir(join(root, ".musicpipe", "files"), { recursive: true });
    await writeFile(join(root, ".musicpipe", "files", "x.json"), "{}");
    await mkdir(join(root, "data", "empty-folder"));
    expect((await collect(store.list(""))).map((i) => i.key)).toEqual(["data/a.csv"]);
    expect(await store.head("data/empty-folder")).toBeUndefined();
    await expect(collect(store.get("data/empty-folder"))).rejects.toBeInstanceOf(ObjectNotFoundError);
  });

  it("removes the temporary files of dead processes on its first write, and keeps a living one's", async () => {
    const child = spawn(process.execPath, ["-e", ""]);
    await new Promise((done) => child.on("exit", done));
    const temps = join(root, TEMP_FOLDER);
    await mkdir(temps, { recursive: true });
    await writeFile(join(temps, `${child.pid}-killed-write`), "half written");
    await writeFile(join(temps, `${process.ppid}-living-write`), "being written");
    const store = createLocalObjectStore({ root });
    await store.put("data/a.csv", "a");
    expect(await readdir(temps)).toEqual([`${process.ppid}-living-write`]);
    expect((await collect(store.list(""))).map((i) => i.key)).toEqual(["data/a.csv"]);
  });

  it("reports symbolic links, other non-files and backslash names under the prefix to onSkipped", async () => {
    const store = createLocalObjectStore({ root });
    await store.put("data/raw/a.csv", "a");
    await store.put("elsewhere/b.csv", "b");
    await symlink(join(root, "elsewhere/b.csv"), join(root, "data/raw/link.csv"));
    await symlink(join(root, "elsewhere"), join(root, "data/raw/linked-folder"));
    await writeFile(join(root, "data/raw/back\\slash.csv"), "c");
    await symlink(join(root, "elsewhere/b.csv"), join(root, "outside-link.csv"));
    const skipped: { key: string; reason: string }[] = [];
    const keys = (await collect(store.list("data/raw/", { onSkipped: (e) => skipped.push(e) }))).map(
      (i) => i.key,
    );
    expect(keys).toEqual(["data/raw/a.csv"]);
    expect(skipped.sort((x, y) => (x.key < y.key ? -1 : 1))).toEqual([
      { key: "data/raw/back\\slash.csv", reason: "unsafe_name" },
      { key: "data/raw/link.csv", reason: "symbolic_link" },
      { key: "data/raw/linked-folder", reason: "symbolic_link" },
    ]);
  });

  it("lists nothing when the root does not exist yet, and creates it on the first write", async () => {
    const store = createLocalObjectStore({ root: join(base, "later") });
    expect(await collect(store.list(""))).toEqual([]);
    await store.put("x/y.csv", "y");
    expect((await stat(join(base, "later", "x", "y.csv"))).isFile()).toBe(true);
  });

  it("refuses a key that is a folder of other objects, or lies under an object", async () => {
    const store = createLocalObjectStore({ root });
    await store.put("a/b.csv", "x");
    await expect(store.put("a", "x")).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(store.put("a/b.csv/c", "x")).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(store.delete("a")).resolves.toBeUndefined();
    expect(await read(store.get("a/b.csv"))).toBe("x");
  });

  it("keeps emptied folders when deleting", async () => {
    const store = createLocalObjectStore({ root });
    await store.put("data/raw/streams/a.csv", "x");
    await store.delete("data/raw/streams/a.csv");
    expect((await stat(join(root, "data", "raw", "streams"))).isDirectory()).toBe(true);
  });

  it("streams large files in chunks of at most 1 MiB", async () => {
    const store = createLocalObjectStore({ root });
    await store.put("big.bin", Buffer.alloc(3 * 1024 * 1024 + 1, 7));
    const sizes = (await collect(store.get("big.bin"))).map((chunk) => chunk.byteLength);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(1024 * 1024);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(3 * 1024 * 1024 + 1);
  });

  it("stops reading when the consumer stops early", async () => {
    const store = createLocalObjectStore({ root });
    await store.put("big.bin", Buffer.alloc(3 * 1024 * 1024, 7));
    for await (const chunk of store.get("big.bin")) {
      expect(chunk.byteLength).toBeGreaterThan(0);
      break;
    }
    // The handle is closed: the file can be replaced and read again.
    await store.put("big.bin", "small");
    expect(await read(store.get("big.bin"))).toBe("small");
  });

  it("refuses an invalid byte range at the call", () => {
    const store = createLocalObjectStore({ root });
    expect(() => store.get("a", { range: { start: -1 } })).toThrow(/start/);
    expect(() => store.get("a", { range: { start: 5, end: 4 } })).toThrow(/end/);
  });

  it("refuses an empty root", () => {
    expect(() => createLocalObjectStore({ root: "" })).toThrow(/\broot\b/);
  });
});

describe("a write that could not prepare its temporary folder", () => {
  it("fails, and the next write tries again instead of repeating the failure", async () => {
    // A file where the temporary folder goes: creating the folder fails.
    await writeFile(join(root, TEMP_FOLDER), "not a folder");
    const store = createLocalObjectStore({ root });
    await expect(store.put("data/a.csv", "first")).rejects.toThrow();
    await rm(join(root, TEMP_FOLDER));
    await store.put("data/a.csv", "second");
    const chunks: Uint8Array[] = [];
    for await (const chunk of store.get("data/a.csv")) chunks.push(chunk);
    expect(Buffer.concat(chunks).toString()).toBe("second");
  });
});
