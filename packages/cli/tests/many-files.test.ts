// 10,000 small files on one listen date through the local target, in five deliveries: the
// KPIs stay exact, the date's pointer and stored state do not grow with the files it holds,
// and each delivery's partials are merged and removed. Seconds per file of each delivery are
// printed (the curve; no bound is asserted on time).
import { mkdir, mkdtemp, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type NaiveFile, naiveKpis } from "../../core/tests/reference/naive-kpis.js";
import { main } from "../src/index.js";

const DELIVERIES = 5;
const FILES = 2_000;
const TRACKS = 40;
const USERS = 300;

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { stdout: (t) => out.push(t), stderr: (t) => err.push(t) });
  return { code, stdout: out.join(""), stderr: err.join("") };
}

/** File `n`: three rows on 2025-06-22, different for every `n`. */
function streamsFile(n: number): string {
  const rows = [0, 1, 2].map((r) => {
    const second = (n * 3 + r) % 86_400;
    const time = new Date(Date.UTC(2025, 5, 22) + second * 1000).toISOString().slice(0, 19).replace("T", " ");
    return `u${(n * 7 + r * 13) % USERS},t${(n * 11 + r) % TRACKS},${time}`;
  });
  return `user_id,track_id,listen_time\n${rows.join("\n")}\n`;
}

async function sizeUnder(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => [])) {
    if (!entry.isFile()) continue;
    files++;
    bytes += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return { files, bytes };
}

describe("musicpipe run --root with 10,000 small files on one date", () => {
  it("keeps the KPIs exact and the date's state the same size, delivery after delivery", async () => {
    const root = await mkdtemp(join(tmpdir(), "musicpipe-many-"));
    const raw = join(root, "data/raw");
    for (const kind of ["streams", "songs", "users"]) await mkdir(join(raw, kind), { recursive: true });
    const songs = `track_id,track_name,track_genre,duration_ms\n${Array.from({ length: TRACKS }, (_, t) => `t${t},Song ${t},genre${t % 5},${1000 + t}`).join("\n")}\n`;
    const users = `user_id,user_name\n${Array.from({ length: USERS }, (_, u) => `u${u},User ${u}`).join("\n")}\n`;
    await writeFile(join(raw, "songs/songs.csv"), songs);
    await writeFile(join(raw, "users/users.csv"), users);
    const delivered: NaiveFile[] = [];
    const curve: string[] = [];
    const pointers: number[] = [];
    const states: number[] = [];
    for (let d = 0; d < DELIVERIES; d++) {
      for (let i = 0; i < FILES; i++) {
        const n = d * FILES + i;
        const name = `data/raw/streams/d${d}-${String(i).padStart(5, "0")}.csv`;
        const content = streamsFile(n);
        await writeFile(join(root, name), content);
        delivered.push({ name, bytes: Buffer.from(content) });
      }
      const run = await cli("run", "--root", root, "--json", "--quiet");
      expect(run.code, run.stderr).toBe(0);
      const summary = JSON.parse(run.stdout) as {
        seconds: number;
        files: { outcome: string }[];
        dates: { listenDate: string; sources: number; absorbed: number }[];
      };
      expect(summary.files).toHaveLength(FILES);
      expect(summary.files.every((f) => f.outcome === "archived")).toBe(true);
      expect(summary.dates).toEqual([
        { listenDate: "2025-06-22", written: true, sources: (d + 1) * FILES, absorbed: FILES },
      ]);
      curve.push(`${((summary.seconds * 1000) / FILES).toFixed(2)} ms`);
      pointers.push((await sizeUnder(join(root, ".musicpipe/days"))).bytes);
      states.push((await sizeUnder(join(root, ".musicpipe/data/state/days"))).files);
      // Every partial of the delivery was merged and removed.
      expect((await sizeUnder(join(root, ".musicpipe/partials"))).files).toBe(0);
    }
    console.log(`ms per file, delivery by delivery (${FILES} files each): ${curve.join(", ")}`);
    // One pointer of the same size and one state blob, however many files the date holds.
    expect(Math.max(...pointers) - Math.min(...pointers)).toBeLessThan(8);
    expect(states).toEqual(new Array(DELIVERIES).fill(1));
    const exported = await cli("export", "--root", root, "--out", join(root, "kpis.json"));
    expect(exported.code, exported.stderr).toBe(0);
    const kpis = JSON.parse(await readFile(join(root, "kpis.json"), "utf8"));
    const expected = naiveKpis({
      streams: delivered,
      songs: [{ name: "songs.csv", bytes: Buffer.from(songs) }],
      users: [{ name: "users.csv", bytes: Buffer.from(users) }],
    });
    expect(kpis.genreStats).toEqual(expected.genreStats);
    expect(kpis.topSongs).toEqual(expected.topSongs);
    expect(kpis.topGenres).toEqual(expected.topGenres);
  }, 600_000);
});
