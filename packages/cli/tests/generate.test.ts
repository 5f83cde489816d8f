import { createReadStream } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { gunzipSync } from "node:zlib";
import { ConfigurationError, computeKpis, type InputFile, loadCatalog, readCsv } from "@musicpipe/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type GenerateOptions,
  type GenerateResult,
  generateDataset,
  SONG_COLUMNS,
} from "../src/generate/index.js";

const SPOTIFY_COLUMNS =
  "id,track_id,artists,album_name,track_name,popularity,duration_ms,explicit,danceability,energy,key," +
  "loudness,mode,speechiness,acousticness,instrumentalness,liveness,valence,tempo,time_signature,track_genre";

const STREAMS = 20_000;
const DAYS = 7;
const BASE: Omit<GenerateOptions, "out"> = { streams: STREAMS, days: DAYS, seed: 7, files: 2 };

let root: string;
let result: GenerateResult;
let dir: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "musicpipe-generate-"));
  dir = join(root, "a");
  result = await generateDataset({ ...BASE, out: dir });
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Every file under `out`, relative path => bytes. */
async function snapshot(out: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const entry of await readdir(out, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    files.set(relative(out, path), await readFile(path));
  }
  return files;
}

/** All records of a CSV file (header included), parsed by the pipeline's own CSV reader. */
async function records(path: string): Promise<string[][]> {
  const out: string[][] = [];
  for await (const batch of readCsv(createReadStream(path), { name: path })) out.push(...batch.records);
  return out;
}

function encode(record: readonly string[]): string {
  return record.map((f) => (/[",\r\n]/.test(f) ? `"${f.replaceAll('"', '""')}"` : f)).join(",");
}

function file(kind: string, name: string): string {
  const found = result.files.find((f) => f.kind === kind && f.path.endsWith(`/${name}`));
  if (found === undefined) throw new Error(`no ${kind} file ${name}`);
  return found.path;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function inputFiles(paths: string[]): InputFile[] {
  return paths.map((path) => ({ name: relative(dir, path), open: () => createReadStream(path) }));
}

describe("generateDataset", () => {
  it("writes the expected files and reports them", async () => {
    expect(result.files.map((f) => [relative(dir, f.path), f.kind, f.valid])).toEqual([
      ["data/raw/songs/songs.csv", "songs", true],
      ["data/raw/users/users.csv", "users", true],
      ["data/raw/streams/streams1.csv", "streams", true],
      ["data/raw/streams/streams2.csv", "streams", true],
      ["data/raw/streams/streams_invalid.csv", "streams", false],
    ]);
    const onDisk = await snapshot(dir);
    for (const f of result.files) expect(onDisk.get(relative(dir, f.path))?.length).toBe(f.bytes);
    expect(onDisk.size).toBe(result.files.length);
  });

  it("is deterministic: same seed, same bytes (also over another run's files); other seed, other bytes", async () => {
    const again = join(root, "again");
    const other = join(root, "other");
    await generateDataset({ ...BASE, out: other, seed: 8 });
    await generateDataset({ ...BASE, out: again, seed: 8 });
    await generateDataset({ ...BASE, out: again });
    const a = await snapshot(dir);
    const b = await snapshot(again);
    const c = await snapshot(other);
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    for (const [name, bytes] of a) expect(b.get(name)?.equals(bytes), name).toBe(true);
    for (const [name, bytes] of a) expect(c.get(name)?.equals(bytes), name).toBe(false);
  });

  it("writes a songs file with the 21 Spotify columns whose names survive CSV quoting", async () => {
    const path = file("songs", "songs.csv");
    const text = await readFile(path, "utf8");
    expect(text.slice(0, text.indexOf("\n"))).toBe(SPOTIFY_COLUMNS);
    expect(SONG_COLUMNS.join(",")).toBe(SPOTIFY_COLUMNS);

    const rows = await records(path);
    const lines = text.split("\n");
    expect(lines.pop()).toBe("");
    expect(rows.length).toBe(lines.length);
    // Every line is exactly the RFC 4180 encoding of what the parser read back.
    expect(rows.map(encode)).toEqual(lines);

    const data = rows.slice(1);
    expect(data.length).toBe(result.files[0]!.rows);
    const wellFormed = data.filter((r) => r.length === 21);
    const names = wellFormed.flatMap((r) => [r[3]!, r[4]!]);
    expect(names.some((n) => n.includes(","))).toBe(true);
    expect(names.some((n) => n.includes('"'))).toBe(true);
    expect(names.some((n) => /[^ -~]/.test(n))).toBe(true);
    expect(wellFormed.some((r) => r[2]!.includes(";"))).toBe(true);
    for (const r of wellFormed) expect(r[1]).toMatch(/^[0-9A-Za-z]{22}$/);
  });

  it("puts a few duplicate track ids after their first, valid row, and a few bad rows", async () => {
    const data = (await records(file("songs", "songs.csv"))).slice(1);
    const isValid = (r: string[]) =>
      r.length === 21 &&
      /^\d+$/.test(r[6]!) &&
      Number(r[6]) >= 30_000 &&
      Number(r[6]) <= 600_000 &&
      !/^[\d.]+$/.test(r[20]!);
    const first = new Map<string, string[]>();
    let duplicates = 0;
    for (const r of data) {
      const seen = first.get(r[1]!);
      if (seen === undefined) first.set(r[1]!, r);
      else {
        duplicates++;
        expect(isValid(seen)).toBe(true);
      }
    }
    const bad = data.filter((r) => !isValid(r)).length;
    expect(duplicates).toBeGreaterThan(0);
    expect(bad).toBeGreaterThan(0);
    expect(duplicates + bad).toBeLessThan(data.length * 0.01);

    const { catalog } = await loadCatalog({
      songs: inputFiles([file("songs", "songs.csv")]),
      users: inputFiles([file("users", "users.csv")]),
    });
    for (const [id, row] of first) {
      if (isValid(row)) expect(catalog.track(id)?.name).toBe(row[4]);
    }
  });

  it("writes users whose quoted names round-trip", async () => {
    const path = file("users", "users.csv");
    const text = await readFile(path, "utf8");
    const rows = await records(path);
    expect(rows[0]).toEqual(["user_id", "user_name", "user_age", "user_country", "created_at"]);
    expect(rows.length - 1).toBe(result.files[1]!.rows);
    expect(rows.map(encode)).toEqual(text.split("\n").slice(0, -1));
    expect(rows.some((r) => r[1]!.includes(","))).toBe(true);
    expect(rows.some((r) => r[1]!.includes('"'))).toBe(true);
  });

  it("writes skewed streams over exactly `days` dates with a little dirt", async () => {
    const songs = new Set((await records(file("songs", "songs.csv"))).slice(1).map((r) => r[1]!));
    const users = new Set((await records(file("users", "users.csv"))).slice(1).map((r) => r[0]!));
    const playsPerTrack = new Map<string, number>();
    const playsPerUser = new Map<string, number>();
    const dates = new Set<string>();
    let total = 0;
    let unknownTracks = 0;
    let unknownUsers = 0;
    let duplicates = 0;
    for (const name of ["streams1.csv", "streams2.csv"]) {
      const rows = await records(file("streams", name));
      expect(rows[0]).toEqual(["user_id", "track_id", "listen_time"]);
      const seen = new Set<string>();
      for (const r of rows.slice(1)) {
        const [user, track, time] = r as [string, string, string];
        total++;
        expect(time).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
        dates.add(time.slice(0, 10));
        const key = r.join(",");
        if (seen.has(key)) duplicates++;
        seen.add(key);
        if (!songs.has(track)) unknownTracks++;
        else playsPerTrack.set(track, (playsPerTrack.get(track) ?? 0) + 1);
        if (!users.has(user)) unknownUsers++;
        else playsPerUser.set(user, (playsPerUser.get(user) ?? 0) + 1);
      }
    }
    expect(total).toBe(STREAMS);
    expect(result.files.filter((f) => f.kind === "streams" && f.valid).reduce((s, f) => s + f.rows, 0)).toBe(
      STREAMS,
    );
    expect([...dates].sort()).toEqual([
      "2025-06-22",
      "2025-06-23",
      "2025-06-24",
      "2025-06-25",
      "2025-06-26",
      "2025-06-27",
      "2025-06-28",
    ]);
    for (const count of [unknownTracks, unknownUsers, duplicates]) {
      expect(count).toBeGreaterThan(0);
      expect(count).toBeLessThan(STREAMS * 0.01);
    }
    const trackPlays = [...playsPerTrack.values()];
    expect(Math.max(...trackPlays)).toBeGreaterThan(20 * median(trackPlays));
    const userPlays = [...playsPerUser.values()];
    expect(Math.max(...userPlays)).toBeGreaterThan(3 * median(userPlays));
  });

  it("writes an invalid streams file without track_id", async () => {
    const rows = await records(file("streams", "streams_invalid.csv"));
    expect(rows[0]).toEqual(["user_id", "listen_time"]);
    expect(rows.length).toBeGreaterThan(1);
  });

  it("produces files the KPI pipeline accepts (and rejects the invalid one)", async () => {
    const streams = result.files.filter((f) => f.kind === "streams").map((f) => f.path);
    const run = await computeKpis({
      streams: inputFiles(streams),
      songs: inputFiles([file("songs", "songs.csv")]),
      users: inputFiles([file("users", "users.csv")]),
    });
    const report = (name: string) => run.files.find((f) => f.file.endsWith(name))!;
    expect(report("songs.csv")).toMatchObject({ accepted: true });
    expect(report("songs.csv").duplicateRows).toBeGreaterThan(0);
    expect(report("songs.csv").badRows).toBeGreaterThan(0);
    expect(report("users.csv")).toMatchObject({ accepted: true, badRows: 0 });
    expect(report("streams_invalid.csv").rejection).toMatchObject({
      code: "missing_column",
      columns: ["track_id"],
    });
    let read = 0;
    for (const name of ["streams1.csv", "streams2.csv"]) {
      const r = report(name);
      expect(r.accepted).toBe(true);
      expect(r.duplicateRows).toBeGreaterThan(0);
      expect(r.badRowsByCode.unknown_track).toBeGreaterThan(0);
      expect(r.badRowsByCode.unknown_user).toBeGreaterThan(0);
      expect(r.badRows).toBe(r.badRowsByCode.unknown_track! + r.badRowsByCode.unknown_user!);
      read += r.rowsRead;
    }
    expect(read).toBe(STREAMS);
    expect(new Set(run.kpis.genreStats.map((s) => s.listenDate)).size).toBe(DAYS);
  });

  it("writes gunzippable .csv.gz streams files with the same content", async () => {
    const out = join(root, "gz");
    const gz = await generateDataset({ ...BASE, streams: 5_000, out, gzip: true });
    const plain = await generateDataset({ ...BASE, streams: 5_000, out: join(root, "plain") });
    const streams = gz.files.filter((f) => f.kind === "streams" && f.valid);
    expect(streams.map((f) => relative(out, f.path))).toEqual([
      "data/raw/streams/streams1.csv.gz",
      "data/raw/streams/streams2.csv.gz",
    ]);
    for (const [i, f] of streams.entries()) {
      const text = gunzipSync(await readFile(f.path)).toString("utf8");
      expect(text).toBe(await readFile(plain.files[2 + i]!.path, "utf8"));
      expect(text.split("\n").length - 2).toBe(f.rows);
      expect((await records(f.path)).length - 1).toBe(f.rows);
    }
  });

  it("reports progress about every 100,000 rows, and at the end", async () => {
    const seen: { rowsWritten: number; rowsTotal: number }[] = [];
    await generateDataset({
      out: join(root, "progress"),
      streams: 250_000,
      days: 3,
      seed: 1,
      songs: 300,
      users: 100,
      onProgress: (p) => seen.push(p),
    });
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(seen.length).toBeLessThanOrEqual(3);
    expect(seen.at(-1)).toEqual({ rowsWritten: 250_000, rowsTotal: 250_000 });
    for (let i = 1; i < seen.length; i++)
      expect(seen[i]!.rowsWritten).toBeGreaterThan(seen[i - 1]!.rowsWritten);
  });

  it("rejects out-of-range options", async () => {
    const out = join(root, "bad");
    await expect(generateDataset({ out, streams: -1, days: 1, seed: 1 })).rejects.toThrow(ConfigurationError);
    await expect(generateDataset({ out, streams: 10, days: 0, seed: 1 })).rejects.toThrow(ConfigurationError);
    await expect(generateDataset({ out, streams: 10, days: 1, seed: 1.5 })).rejects.toThrow(
      ConfigurationError,
    );
    await expect(
      generateDataset({ out, streams: 10, days: 1, seed: 1, startDate: "2025-02-30" }),
    ).rejects.toThrow(ConfigurationError);
  });
});

describe("generating again into the same folder", () => {
  it("removes streams files of an earlier run that this run does not rewrite", async () => {
    const out = await mkdtemp(join(tmpdir(), "musicpipe-regen-"));
    await generateDataset({ out, streams: 3000, days: 2, seed: 1, files: 3 });
    await generateDataset({ out, streams: 3000, days: 2, seed: 1, files: 1, gzip: true });
    expect((await readdir(join(out, "data/raw/streams"))).sort()).toEqual([
      "streams1.csv.gz",
      "streams_invalid.csv",
    ]);
  });
});

describe("generate's counts and skews", () => {
  /** Share of all listens taken by the most played track and by the most active user. */
  async function topShares(options: Partial<GenerateOptions>): Promise<{ track: number; user: number }> {
    const out = join(root, `skew-${options.trackSkew}-${options.userSkew}`);
    const generated = await generateDataset({
      ...BASE,
      files: 1,
      songs: 2_000,
      users: 1_000,
      ...options,
      out,
    });
    const streams = generated.files.find((f) => f.kind === "streams" && f.valid)!;
    const tracks = new Map<string, number>();
    const users = new Map<string, number>();
    const rows = (await records(streams.path)).slice(1);
    for (const [user, track] of rows) {
      tracks.set(track!, (tracks.get(track!) ?? 0) + 1);
      users.set(user!, (users.get(user!) ?? 0) + 1);
    }
    const songRows = generated.files.find((f) => f.kind === "songs")!;
    const userRows = generated.files.find((f) => f.kind === "users")!;
    expect(songRows.rows).toBeGreaterThanOrEqual(2_000);
    expect(userRows.rows).toBe(1_000);
    return {
      track: Math.max(...tracks.values()) / rows.length,
      user: Math.max(...users.values()) / rows.length,
    };
  }

  it("takes the catalog sizes given, and spreads listens evenly with skews of 0", async () => {
    const flat = await topShares({ trackSkew: 0, userSkew: 0 });
    const steep = await topShares({ trackSkew: 1.5, userSkew: 1.2 });
    // Uniform: the top track has about 1/2,000 of the listens, the top user about 1/1,000.
    expect(flat.track).toBeLessThan(5 / 2_000);
    expect(flat.user).toBeLessThan(5 / 1_000);
    expect(steep.track).toBeGreaterThan(10 * flat.track);
    expect(steep.user).toBeGreaterThan(10 * flat.user);
  });

  it("rejects a skew out of range", async () => {
    const out = join(root, "bad-skew");
    await expect(generateDataset({ ...BASE, out, trackSkew: -0.1 })).rejects.toThrow(ConfigurationError);
    await expect(generateDataset({ ...BASE, out, userSkew: 11 })).rejects.toThrow(ConfigurationError);
    await expect(generateDataset({ ...BASE, out, trackSkew: Number.NaN })).rejects.toThrow(
      ConfigurationError,
    );
  });
});
