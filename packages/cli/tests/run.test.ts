import { createHash } from "node:crypto";
import { cp, mkdtemp, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { type NaiveFile, naiveKpis } from "../../core/tests/reference/naive-kpis.js";
import { cli, walk } from "./cli-helpers.js";

const EDGE = fileURLToPath(new URL("../../core/tests/fixtures/edge", import.meta.url));

const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

async function filesOf(root: string, sub: string): Promise<NaiveFile[]> {
  const paths = await walk(join(root, sub));
  return Promise.all(paths.map(async (p) => ({ name: relative(root, p), bytes: await readFile(p) })));
}

describe("musicpipe run --root over the edge-case set, in two batches and with a re-delivery", () => {
  it("leaves no streams file behind, sorts files into archive and error, and exports the reference KPIs", async () => {
    const root = await mkdtemp(join(tmpdir(), "musicpipe-run-"));
    await cp(EDGE, root, { recursive: true });
    const streamsDir = join(root, "data/raw/streams");
    const all = await filesOf(root, "data/raw/streams");
    // Batch 1: hold back every other streams file.
    const heldBack = join(root, "held");
    await cp(streamsDir, heldBack, { recursive: true });
    const names = (await readdir(streamsDir)).sort();
    for (const [i, name] of names.entries()) {
      if (i % 2 === 1) await rm(join(streamsDir, name));
    }
    const first = await cli("run", "--root", root, "--quiet");
    expect([0, 1]).toContain(first.code);
    // Batch 2: the rest, plus one already processed file delivered again under its own name.
    for (const [i, name] of names.entries()) {
      if (i % 2 === 1) await rename(join(heldBack, name), join(streamsDir, name));
    }
    await writeFile(join(streamsDir, "s01-times.csv"), await readFile(join(heldBack, "s01-times.csv")));
    const second = await cli("run", "--root", root);
    expect(second.code, second.stderr).toBe(1);
    expect(first.stdout + second.stdout).toMatch(
      /Rejected \(missing_column\): data\/raw\/streams\/s10-missing-track-id.csv/,
    );

    expect(await walk(streamsDir)).toEqual([]);
    const archived = (await walk(join(root, "data/archive"))).map((p) => relative(root, p));
    const errored = (await walk(join(root, "data/error"))).map((p) => relative(root, p));
    expect(
      archived.every((k) => /^data\/archive\/\d{4}\/\d{2}\/\d{2}\/\d{8}T\d{9}Z_[^/]+\.csv$/.test(k)),
    ).toBe(true);
    expect(errored.every((k) => /^data\/error\/\d{8}T\d{9}Z_[^/]+\.csv$/.test(k))).toBe(true);
    expect(errored.some((k) => k.endsWith("_s11-header-only.csv"))).toBe(true);
    expect(errored.some((k) => k.endsWith("_s10-missing-track-id.csv"))).toBe(true);
    // Every input is in exactly one place; s01 twice (two deliveries) in the archive.
    expect(archived.length + errored.length).toBe(all.length + 1);
    expect(archived.filter((k) => k.endsWith("_s01-times.csv"))).toHaveLength(2);
    // Songs and users stay where they are.
    expect((await walk(join(root, "data/raw/songs"))).length).toBeGreaterThan(0);

    const exported = join(root, "export.json");
    expect((await cli("export", "--root", root, "--out", exported)).code).toBe(0);
    const unique = new Map(all.map((f) => [sha(f.bytes), f]));
    const reference = naiveKpis({
      streams: [...unique.values()],
      songs: await filesOf(root, "data/raw/songs"),
      users: await filesOf(root, "data/raw/users"),
    });
    const json = JSON.parse(await readFile(exported, "utf8"));
    expect(json.genreStats).toEqual(reference.genreStats);
    expect(json.topSongs).toEqual(reference.topSongs);
    expect(json.topGenres).toEqual(reference.topGenres);

    const status = await cli("status", "--root", root);
    const lines = status.stdout.trim().split("\n");
    expect(lines).toHaveLength(all.length);
    expect(lines.find((l) => l.startsWith("data/raw/streams/s01-times.csv"))).toMatch(/deliveries=2/);
    expect(lines.find((l) => l.startsWith("data/raw/streams/s11-header-only.csv"))).toMatch(
      /validation=FAILED.*header_only -> data\/error\//,
    );

    // Nothing left to do; the rejected catalog files (they stay in place) still make it exit 1.
    const again = await cli("run", "--root", root, "--json");
    expect(JSON.parse(again.stdout).files).toEqual([]);
    expect(again.code).toBe(1);
    expect((await cli("run", "--root", root)).stdout).toMatch(
      /Rejected songs file, not used \(too_many_bad_rows\): data\/raw\/songs\/songs-d-rejected\.csv/,
    );
  });

  it("exits 2 when the root has no streams folder", async () => {
    const root = await mkdtemp(join(tmpdir(), "musicpipe-run-empty-"));
    const r = await cli("run", "--root", root);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is not a folder/);
  });
});

describe("musicpipe run --listener-shards", () => {
  it("stores three shards a date and exports the KPIs of one", async () => {
    const { generateDataset } = await import("../src/generate/index.js");
    const exports: unknown[] = [];
    for (const shards of [1, 3]) {
      const root = await mkdtemp(join(tmpdir(), `musicpipe-shards-${shards}-`));
      await generateDataset({ out: root, streams: 20_000, days: 3, seed: 5, files: 2 });
      const run = await cli("run", "--root", root, "--quiet", "--listener-shards", String(shards));
      expect(run.code, run.stderr).toBe(1); // the generator's invalid streams file is rejected
      const out = join(root, "kpis.json");
      expect((await cli("export", "--root", root, "--out", out)).code).toBe(0);
      exports.push(JSON.parse(await readFile(out, "utf8")));
      const pointers = await readdir(join(root, ".musicpipe/days/2025-06-22"));
      expect(pointers.sort()).toEqual(Array.from({ length: shards }, (_, s) => `${s}.json`));
    }
    expect(exports[1]).toEqual(exports[0]);
  });

  it("refuses a shard count out of range", async () => {
    const root = await mkdtemp(join(tmpdir(), "musicpipe-shards-bad-"));
    const run = await cli("run", "--root", root, "--listener-shards", "5000");
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--listener-shards/);
  });
});
