import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { computeKpis, type InputFile, loadCatalog } from "../src/index.js";
import { readStreamsCompact } from "../src/kpi/compute.js";
import { memoryFile } from "./helpers.js";

// A real garbage collection before each sample, so the samples measure live data, not garbage.
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const TRACKS = 300;
const USERS = 200;
const songs = memoryFile(
  "songs.csv",
  `track_id,track_name,track_genre,duration_ms\n${Array.from({ length: TRACKS }, (_, t) => `t${t},Song ${t},genre${t % 12},${1000 + t}`).join("\n")}\n`,
);
const users = memoryFile(
  "users.csv",
  `user_id,user_name\n${Array.from({ length: USERS }, (_, u) => `u${u},User ${u}`).join("\n")}\n`,
);

/**
 * A streams file of `rows` rows made on the fly, 4 KiB at a time (never whole in memory), over
 * the same tracks, users and 3 days. With `repeat`, the rows cycle through the first
 * `repeat` distinct ones (the rest are exact duplicates).
 */
function streamsFile(name: string, rows: number, seed: number, repeat = rows): InputFile {
  return {
    name,
    open: () =>
      (function* () {
        const encoder = new TextEncoder();
        let text = "user_id,track_id,listen_time\n";
        for (let i = 0; i < rows; i++) {
          const r = (i % repeat) + seed * repeat;
          const second = (r * 7919) % (3 * 86400);
          const time = new Date(Date.UTC(2025, 5, 22) + second * 1000)
            .toISOString()
            .slice(0, 19)
            .replace("T", " ");
          text += `u${(r * 31) % USERS},t${(r * 17) % TRACKS},${time}\n`;
          if (text.length > 4096) {
            yield encoder.encode(text);
            text = "";
          }
        }
        yield encoder.encode(text);
      })(),
  };
}

/** Live JavaScript heap plus typed-array memory (the fast path's tables live there). */
function used(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** Collects garbage until live memory stops falling (freed array buffers are released late). */
async function settle(): Promise<number> {
  let last = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 10; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 10));
    const now = used();
    if (now >= last) return now;
    last = now;
  }
  return last;
}

async function peakHeap(streams: InputFile[]): Promise<{ peak: number; listens: number }> {
  const base = await settle();
  let peak = 0;
  let calls = 0;
  const run = await computeKpis(
    { streams, songs: [songs], users: [users] },
    {
      onProgress: () => {
        if (++calls % 8 !== 0) return;
        gc();
        peak = Math.max(peak, used() - base);
      },
    },
  );
  return { peak, listens: run.kpis.genreStats.reduce((a, g) => a + g.listenCount, 0) };
}

describe("memory", () => {
  it("stays flat when the rows grow tenfold over more files with the same distinct keys", async () => {
    const one = await peakHeap([streamsFile("a.csv", 50_000, 0)]);
    const ten = await peakHeap(Array.from({ length: 10 }, (_, i) => streamsFile(`f${i}.csv`, 50_000, i)));
    expect(ten.listens).toBe(10 * one.listens);
    expect(ten.peak).toBeLessThan(one.peak * 1.5 + 512 * 1024);
  });

  it("stays flat when one file grows tenfold with repeated rows", async () => {
    const small = await peakHeap([streamsFile("a.csv", 50_000, 0)]);
    const large = await peakHeap([streamsFile("a.csv", 500_000, 0, 50_000)]);
    expect(large.listens).toBe(small.listens);
    expect(large.peak).toBeLessThan(small.peak * 1.5 + 512 * 1024);
  });
});

/** A users file of `count` users, made on the fly (the streams below use the first 200). */
function usersFile(count: number): InputFile {
  return {
    name: "users.csv",
    open: () =>
      (function* () {
        const encoder = new TextEncoder();
        let text = "user_id,user_name\n";
        for (let u = 0; u < count; u++) {
          text += `u${u},User ${u}\n`;
          if (text.length > 65536) {
            yield encoder.encode(text);
            text = "";
          }
        }
        yield encoder.encode(text);
      })(),
  };
}

/**
 * Peak live memory of scanning `streams` over a catalog of `userCount` users, above what the
 * loaded catalog and its index already hold: the KPI state and the scanner's buffers.
 */
async function peakOverCatalog(
  userCount: number,
  streams: InputFile,
): Promise<{ peak: number; listens: number }> {
  const { catalog } = await loadCatalog({ songs: [songs], users: [usersFile(userCount)] });
  // A first scan builds the index's lookup tables (catalog memory, not KPI state).
  await readStreamsCompact(streamsFile("warm.csv", 20_000, 0).open, "warm.csv", catalog);
  const base = await settle();
  let peak = 0;
  let calls = 0;
  const { compact } = await readStreamsCompact(streams.open, streams.name, catalog, {
    onProgress: () => {
      if (++calls % 8 !== 0) return;
      gc();
      peak = Math.max(peak, used() - base);
    },
  });
  const listens = compact.finalize().genreStats.reduce((a, g) => a + g.listenCount, 0);
  return { peak, listens };
}

describe("memory over a growing user catalog", () => {
  it("stays flat when the user catalog grows tenfold and the streams touch the same users", async () => {
    const small = await peakOverCatalog(50_000, streamsFile("a.csv", 100_000, 0));
    const large = await peakOverCatalog(500_000, streamsFile("a.csv", 100_000, 0));
    expect(large.listens).toBe(small.listens);
    expect(large.listens).toBeGreaterThan(0);
    expect(large.peak).toBeLessThan(small.peak * 1.5 + 512 * 1024);
  });

  it("stays flat when the rows and the user catalog both grow tenfold", async () => {
    const small = await peakOverCatalog(50_000, streamsFile("a.csv", 50_000, 0));
    const large = await peakOverCatalog(500_000, streamsFile("a.csv", 500_000, 0, 50_000));
    expect(large.listens).toBe(small.listens);
    expect(large.peak).toBeLessThan(small.peak * 1.5 + 512 * 1024);
  });
});
