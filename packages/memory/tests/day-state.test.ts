// Incremental day states over the memory adapters: concurrent loads, re-deliveries, listener
// shards, and a load's cost following the new partials rather than the date's history.
import {
  ConditionFailedError,
  computeKpis,
  createPipelineContext as createContext,
  type DayStateStore,
  finishListenDate,
  type InputFile,
  type KpiSet,
  loadDayShard,
  loadListenDate,
  type ObjectStore,
  runPending,
  transformStage,
  validateStage,
} from "@musicpipe/core";
import { describe, expect, it } from "vitest";
import { HEADER, keys, memoryPipeline, SONGS, storedKpis, text, USERS } from "./pipeline-helpers.js";

const DATE = "2025-06-22";
const mem = (name: string, content: string): InputFile => ({ name, open: () => [Buffer.from(content)] });

/** A streams file of `rows` rows on {@link DATE}, different for each `n`. */
function streams(n: number, rows = 4): string {
  const lines = Array.from({ length: rows }, (_, r) => {
    const second = (n * 97 + r * 13) % 86_400;
    const time = new Date(Date.UTC(2025, 5, 22) + second * 1000).toISOString().slice(0, 19).replace("T", " ");
    return `u${1 + ((n + r) % 3)},t${1 + ((n * 3 + r) % 4)},${time}`;
  });
  return `${HEADER}${lines.join("\n")}\n`;
}

async function batch(contents: readonly string[]): Promise<KpiSet> {
  const run = await computeKpis({
    streams: contents.map((s, i) => mem(`s${i}.csv`, s)),
    songs: [mem("songs.csv", SONGS)],
    users: [mem("users.csv", USERS)],
  });
  return run.kpis;
}

/** Pointer reads and writes that wait a little first (so concurrent loads interleave), counting lost races. */
function slowDays(days: DayStateStore): { days: DayStateStore; conflicts: () => number } {
  let conflicts = 0;
  const pause = () => new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 4)));
  return {
    conflicts: () => conflicts,
    days: {
      get: async (date, shard) => {
        await pause();
        return days.get(date, shard);
      },
      put: async (pointer, expected) => {
        await pause();
        try {
          return await days.put(pointer, expected);
        } catch (err) {
          if (err instanceof ConditionFailedError) conflicts++;
          throw err;
        }
      },
      list: () => days.list(),
    },
  };
}

/** Counts reads of objects (by key) of a store. */
function countingReads(store: ObjectStore): { store: ObjectStore; reads: () => number; reset: () => void } {
  let reads = 0;
  const counted: ObjectStore = Object.create(store);
  counted.get = (key, options) => {
    reads++;
    return store.get(key, options);
  };
  return {
    store: counted,
    reads: () => reads,
    reset: () => {
      reads = 0;
    },
  };
}

async function validateAndTransform(ctx: Parameters<typeof validateStage>[0], key: string): Promise<void> {
  expect((await validateStage(ctx, key)).status).toBe("SUCCESS");
  await transformStage(ctx, key);
}

describe("day states", () => {
  it("never lose a contribution when loads of one date run at once", async () => {
    const p = await memoryPipeline();
    const slow = slowDays(p.tables.days);
    const config = { ...p.config, days: slow.days };
    const contents = Array.from({ length: 8 }, (_, n) => streams(n));
    const ctx = () => createContext(config);
    for (let n = 0; n < 4; n++) {
      await p.objects.put(`data/raw/streams/f${n}.csv`, contents[n]!);
      await validateAndTransform(ctx(), `data/raw/streams/f${n}.csv`);
    }
    // Three loaders race while four more files arrive and are transformed.
    const arriving = (async () => {
      for (let n = 4; n < 8; n++) {
        await p.objects.put(`data/raw/streams/f${n}.csv`, contents[n]!);
        await validateAndTransform(ctx(), `data/raw/streams/f${n}.csv`);
        await loadListenDate(ctx(), DATE);
      }
    })();
    await Promise.all([
      loadListenDate(ctx(), DATE),
      loadListenDate(ctx(), DATE),
      loadListenDate(ctx(), DATE),
      arriving,
    ]);
    const last = await loadListenDate(ctx(), DATE);
    expect(last.sources).toBe(8);
    expect(slow.conflicts()).toBeGreaterThan(0);
    expect(await storedKpis(ctx())).toEqual(await batch(contents));
  });

  it("change nothing for a partial already included (the same bytes delivered again)", async () => {
    const p = await memoryPipeline();
    await p.objects.put("data/raw/streams/a.csv", streams(1));
    await runPending(p.context());
    const before = await p.tables.days.get(DATE, 0);
    await p.objects.put("data/raw/streams/again.csv", streams(1));
    const summary = await runPending(p.context());
    expect(summary.dates.map((d) => d.absorbed)).toEqual([0]);
    expect(await p.tables.days.get(DATE, 0)).toEqual(before);
    expect(await storedKpis(p.context())).toEqual(await batch([streams(1)]));
  });

  it("split by listener shards give the unsharded KPIs, loaded together or shard by shard", async () => {
    const contents = Array.from({ length: 5 }, (_, n) => streams(n, 9));
    const together = await memoryPipeline({ listenerShards: 3 });
    for (const [n, content] of contents.entries())
      await together.objects.put(`data/raw/streams/f${n}.csv`, content);
    await runPending(together.context());
    expect(await storedKpis(together.context())).toEqual(await batch(contents));
    expect((await together.tables.days.get(DATE, 2))?.shards).toBe(3);

    // A fan-out: every shard loaded on its own (here in reverse order), then the date finished.
    const apart = await memoryPipeline({ listenerShards: 3 });
    for (const [n, content] of contents.entries()) {
      await apart.objects.put(`data/raw/streams/f${n}.csv`, content);
      await validateAndTransform(apart.context(), `data/raw/streams/f${n}.csv`);
    }
    for (const shard of [2, 1, 0]) await loadDayShard(apart.context(), DATE, shard);
    const finished = await finishListenDate(apart.context(), DATE);
    expect(finished.consistent).toBe(true);
    expect(finished.deleted).toBe(5);
    expect(await storedKpis(apart.context())).toEqual(await batch(contents));
  });

  it("cost a load reads that follow the new partials, not the date's history", async () => {
    const p = await memoryPipeline();
    const counted = countingReads(p.objects);
    const config = { ...p.config, objects: counted.store };
    const reads: number[] = [];
    const pointerBytes: number[] = [];
    const all: string[] = [];
    for (let round = 0; round < 6; round++) {
      for (let n = 0; n < 20; n++) {
        const content = streams(round * 20 + n);
        all.push(content);
        await p.objects.put(`data/raw/streams/r${round}-${n}.csv`, content);
      }
      counted.reset();
      const summary = await runPending(createContext(config));
      expect(summary.dates.map((d) => d.absorbed)).toEqual([20]);
      reads.push(counted.reads());
      pointerBytes.push(JSON.stringify(await p.tables.days.get(DATE, 0)).length);
    }
    // Every round reads as many objects (its 20 files once, the catalog and the date's state),
    // whatever came before; the date's pointer does not grow.
    expect(new Set(reads.slice(1)).size).toBe(1);
    expect(Math.max(...pointerBytes) - Math.min(...pointerBytes)).toBeLessThan(8);
    expect(await storedKpis(createContext(config))).toEqual(await batch(all));
  });

  it("refuse a shard the date does not have", async () => {
    const p = await memoryPipeline({ listenerShards: 2 });
    await p.objects.put("data/raw/streams/a.csv", streams(1));
    await runPending(p.context());
    await expect(loadDayShard(p.context(), DATE, 2)).rejects.toMatchObject({ code: "invalid_shard" });
    await expect(loadDayShard(p.context(), DATE, -1)).rejects.toMatchObject({ code: "invalid_shard" });
    expect((await loadDayShard(p.context(), DATE, 1)).absorbed).toBe(0);
  });

  it("write a compiled catalog anew when the stored one is damaged", async () => {
    const p = await memoryPipeline();
    await p.objects.put("data/raw/streams/a.csv", streams(1));
    await runPending(p.context());
    const key = (await keys(p.objects, "data/state/catalogs/")).find((k) => k.endsWith(".mpc"))!;
    const good = await text(p.objects, key);
    await p.objects.put(key, "not a catalog");
    await p.objects.put("data/raw/streams/b.csv", streams(2));
    await runPending(p.context());
    expect(await text(p.objects, key)).toBe(good);
    expect(await storedKpis(p.context())).toEqual(await batch([streams(1), streams(2)]));
  });
});
