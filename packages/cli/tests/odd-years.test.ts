import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { cli, walk } from "./cli-helpers.js";

// The two reproductions (their UTC dates are -0001-12-31 and 10000-01-01), then rows whose
// UTC date is the first or the last day of the range.
const STREAMS = [
  "user_id,track_id,listen_time",
  "u1,t1,0000-01-01T00:00:00+14:00",
  "u1,t1,9999-12-31T23:59:59-12:00",
  "u1,t1,0001-01-01T00:00:00Z",
  "u2,t1,0000-12-31T23:00:00-01:00",
  "u1,t2,9999-12-31 23:59:59",
  "u2,t2,9999-12-31T23:59:59.999+00:00",
  "",
].join("\n");

async function makeRoot(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "musicpipe-odd-years-"));
  for (const kind of ["streams", "songs", "users"])
    await mkdir(join(root, "data", "raw", kind), { recursive: true });
  await writeFile(
    join(root, "data/raw/songs/songs.csv"),
    "track_id,track_name,track_genre,duration_ms\nt1,One,pop,1000\nt2,Two,rock,3000\n",
  );
  await writeFile(join(root, "data/raw/users/users.csv"), "user_id,user_name\nu1,Ann\nu2,Bob\n");
  await writeFile(join(root, "data/raw/streams/a.csv"), STREAMS);
  return root;
}

const EXPECTED_STATS = [
  {
    listenDate: "0001-01-01",
    genre: "pop",
    listenCount: 2,
    uniqueListeners: 2,
    totalListeningTimeMs: 2000,
    avgListeningTimePerUserMs: 1000,
  },
  {
    listenDate: "9999-12-31",
    genre: "rock",
    listenCount: 2,
    uniqueListeners: 2,
    totalListeningTimeMs: 6000,
    avgListeningTimePerUserMs: 3000,
  },
];

describe("listen dates outside 0001-01-01 .. 9999-12-31", () => {
  it("musicpipe kpis drops them with listen_date_out_of_range and keeps years 0001 and 9999", async () => {
    const root = await makeRoot();
    const out = join(root, "kpis.json");
    const r = await cli("kpis", "--root", root, "--out", out, "--max-bad-row-share", "1");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/6 rows, 4 kept, dropped: listen_date_out_of_range 2/);
    expect(r.stdout).toMatch(/listen_date_out_of_range 2/);
    const json = JSON.parse(await readFile(out, "utf8"));
    expect(json.genreStats).toEqual(EXPECTED_STATS);
    for (const entry of [...json.topSongs, ...json.topGenres])
      expect(entry.listenDate).toMatch(/^(0001-01-01|9999-12-31)$/);
  });

  it("musicpipe kpis gives the same with the general reader (quoted fields) and one worker", async () => {
    const root = await makeRoot();
    await writeFile(join(root, "data/raw/streams/a.csv"), STREAMS.replace(/^(u\d),/gm, '"$1",'));
    const out = join(root, "kpis.json");
    const r = await cli("kpis", "--root", root, "--out", out, "--max-bad-row-share", "1", "--workers", "1");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/6 rows, 4 kept, dropped: listen_date_out_of_range 2/);
    expect(JSON.parse(await readFile(out, "utf8")).genreStats).toEqual(EXPECTED_STATS);
  });

  it("musicpipe run --root drops them with the code and writes only well-formed data/kpis/YYYY/MM/DD/ folders", async () => {
    const root = await makeRoot();
    const r = await cli("run", "--root", root, "--json", "--max-bad-row-share", "1");
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.files).toHaveLength(1);
    expect(summary.files[0].outcome).toBe("archived");
    expect(JSON.stringify(summary.files[0])).toContain('"listen_date_out_of_range":2');
    expect(summary.dates.map((d: { listenDate: string }) => d.listenDate).sort()).toEqual([
      "0001-01-01",
      "9999-12-31",
    ]);

    const kpiFiles = (await walk(join(root, "data/kpis"))).map((p) => relative(join(root, "data/kpis"), p));
    expect(kpiFiles.length).toBeGreaterThan(0);
    for (const f of kpiFiles) expect(f).toMatch(/^\d{4}\/\d{2}\/\d{2}\/[^/]+\.jsonl$/);
    expect([...new Set(kpiFiles.map((f) => f.slice(0, 10)))].sort()).toEqual(["0001/01/01", "9999/12/31"]);

    const exported = join(root, "export.json");
    expect((await cli("export", "--root", root, "--out", exported)).code).toBe(0);
    expect(JSON.parse(await readFile(exported, "utf8")).genreStats).toEqual(EXPECTED_STATS);
  });
});
