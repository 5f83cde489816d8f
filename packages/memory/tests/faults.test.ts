import { ObjectNotFoundError, type ObjectStore } from "@musicpipe/core";
import { describe, expect, it } from "vitest";
import {
  createFaultInjector,
  createMemoryObjectStore,
  createMemoryTables,
  InjectedFault,
} from "../src/index.js";

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

describe("createFaultInjector", () => {
  it("fails the N-th call and passes the others through", async () => {
    const faults = createFaultInjector();
    const store = faults.wrap("objects", createMemoryObjectStore());
    faults.failAt = 3;
    await store.put("a", "1"); // 1
    expect(await store.head("a")).toMatchObject({ size: 1 }); // 2
    const error: unknown = await store.head("a").catch((e: unknown) => e); // 3
    expect(error).toBeInstanceOf(InjectedFault);
    expect(error).toMatchObject({ port: "objects", method: "head", call: 3, name: "InjectedFault" });
    expect((error as Error).message).toBe("injected fault at call 3: objects.head");
    expect(await store.head("a")).toMatchObject({ size: 1 }); // 4
    expect(faults.calls).toBe(4);
    expect(faults.log).toEqual(["objects.put", "objects.head", "objects.head", "objects.head"]);
  });

  it("does not reach the port on the failing call", async () => {
    const faults = createFaultInjector({ failAt: 1 });
    const store = faults.wrap("objects", createMemoryObjectStore());
    await expect(store.put("a", "1")).rejects.toBeInstanceOf(InjectedFault);
    expect(await store.head("a")).toBeUndefined();
  });

  it("makes a failing iterable call fail on its first next()", async () => {
    const faults = createFaultInjector();
    const store = faults.wrap("objects", createMemoryObjectStore());
    await store.put("a", "1");
    faults.failAt = 2;
    const stream = store.get("a");
    const iterator = stream[Symbol.asyncIterator]();
    await expect(iterator.next()).rejects.toBeInstanceOf(InjectedFault);
    faults.failAt = 3;
    await expect(collect(store.list(""))).rejects.toMatchObject({ method: "list", call: 3 });
    // Non-failing iterables pass through unchanged, errors included.
    expect((await collect(store.list(""))).map((i) => i.key)).toEqual(["a"]);
    await expect(collect(store.get("missing"))).rejects.toBeInstanceOf(ObjectNotFoundError);
  });

  it("fails the iterables of the table ports on first next()", async () => {
    const faults = createFaultInjector();
    const tables = createMemoryTables();
    const kpis = faults.wrap("kpis", tables.kpis);
    const files = faults.wrap("files", tables.files);
    const partials = faults.wrap("partials", tables.partials);
    faults.failAt = 1;
    await expect(collect(kpis.listDates())).rejects.toBeInstanceOf(InjectedFault);
    faults.failAt = 2;
    await expect(collect(files.list())).rejects.toBeInstanceOf(InjectedFault);
    faults.failAt = 3;
    await expect(collect(partials.listDate("2025-06-22"))).rejects.toBeInstanceOf(InjectedFault);
    faults.failAt = 4;
    await expect(files.get("x")).rejects.toBeInstanceOf(InjectedFault);
    expect(await files.get("x")).toBeUndefined();
  });

  it("counts calls across every wrapped port", async () => {
    const faults = createFaultInjector();
    const store = faults.wrap("objects", createMemoryObjectStore());
    const { files } = createMemoryTables();
    const wrappedFiles = faults.wrap("files", files);
    faults.failAt = 4;
    await store.head("a");
    await wrappedFiles.get("a");
    await store.delete("a");
    await expect(wrappedFiles.get("a")).rejects.toMatchObject({ port: "files", method: "get", call: 4 });
    expect(faults.log).toEqual(["objects.head", "files.get", "objects.delete", "files.get"]);
    faults.calls = 0;
    faults.failAt = 1;
    await expect(store.head("a")).rejects.toBeInstanceOf(InjectedFault);
  });

  it("counts without failing when failAt is unset, and keeps the port type", async () => {
    const faults = createFaultInjector();
    const store: ObjectStore = faults.wrap("objects", createMemoryObjectStore());
    for (let i = 0; i < 5; i++) await store.put(`k${i}`, "x");
    expect(faults.calls).toBe(5);
    expect(store.put).toBe(store.put);
  });

  it("calls class-based ports with their private fields intact", async () => {
    class Counter {
      #count = 0;
      async increment(): Promise<number> {
        this.#count += 1;
        return this.#count;
      }
    }
    const faults = createFaultInjector();
    const counter = faults.wrap("counter", new Counter());
    expect(await counter.increment()).toBe(1);
    expect(await counter.increment()).toBe(2);
  });
});
