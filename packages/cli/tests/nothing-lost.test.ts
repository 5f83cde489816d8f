// Nothing lost: same-name rejections in one millisecond, long names, records left half-way by a
// dead process, and several runs on one root at the same instant (with the lock, with a stale
// lock, and the stages alone without it). After each, every delivered file is in exactly one
// of raw, archive and error with its bytes intact, no record stays unfinished, and the KPIs
// equal the reference.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { cp, mkdir, mkdtemp, readdir, readFile, rename, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import {
  archiveStage,
  createPipelineContext,
  type FileRecord,
  loadStage,
  type PipelineContext,
  runPending,
  transformStage,
  validateStage,
} from "@musicpipe/core";
import { createLocalObjectStore, createLocalTables } from "@musicpipe/memory/local";
import { describe, expect, it } from "vitest";
import { type NaiveFile, naiveKpis } from "../../core/tests/reference/naive-kpis.js";
import { cli, walk } from "./cli-helpers.js";

const run = promisify(execFile);
const RACE = fileURLToPath(new URL("./fixtures/race-run.mjs", import.meta.url));
/** Trials of each concurrency case; `MUSICPIPE_RACE_TRIALS` asks for more. */
const TRIALS = Number(process.env.MUSICPIPE_RACE_TRIALS ?? 3);

const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

const SONGS = `track_id,track_name,track_genre,duration_ms\n${Array.from({ length: 12 }, (_, t) => `t${t},Song ${t},g${t % 3},${1000 * (t + 1)}`).join("\n")}\n`;
const USERS = `user_id,user_name\n${Array.from({ length: 20 }, (_, u) => `u${u},User ${u}`).join("\n")}\n`;

function validFile(n: number): string {
  const rows = [0, 1, 2, 3].map(
    (r) =>
      `u${(n * 3 + r) % 20},t${(n + r * 5) % 12},2025-06-${String(20 + (r % 3)).padStart(2, "0")} 10:0${r}:${String(n % 60).padStart(2, "0")}`,
  );
  return `user_id,track_id,listen_time\n${rows.join("\n")}\n`;
}

/** A distinct invalid file: no track_id column. */
const invalidFile = (n: number) => `user_id,listen_time\nu${n},2025-06-20 10:00:00\n`;

/** A root with the catalogs and `files` (relative to the streams prefix). */
async function rootWith(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "musicpipe-lost-"));
  for (const kind of ["songs", "users", "streams"])
    await mkdir(join(root, "data/raw", kind), { recursive: true });
  await writeFile(join(root, "data/raw/songs/songs.csv"), SONGS);
  await writeFile(join(root, "data/raw/users/users.csv"), USERS);
  for (const [name, content] of Object.entries(files)) {
    const path = join(root, "data/raw/streams", name);
    await mkdir(join(path, ".."), { recursive: true });
    await writeFile(path, content);
  }
  return root;
}

/** Where each delivered file's bytes are now: the number of copies under raw, archive and error. */
async function placesOf(root: string, delivered: Record<string, string>) {
  const found = new Map<string, string[]>();
  for (const sub of ["data/raw/streams", "data/archive", "data/error"]) {
    for (const path of await walk(join(root, sub))) {
      const digest = sha(await readFile(path));
      found.set(digest, [...(found.get(digest) ?? []), relative(root, path)]);
    }
  }
  return Object.entries(delivered).map(([name, content]) => ({
    name,
    places: found.get(sha(Buffer.from(content))) ?? [],
  }));
}

async function expectEachInOnePlace(root: string, delivered: Record<string, string>) {
  const places = await placesOf(root, delivered);
  const wrong = places.filter((p) => p.places.length !== 1);
  expect(wrong, `files not in exactly one place: ${JSON.stringify(wrong)}`).toEqual([]);
  return places;
}

function localContext(root: string, now?: () => Date): PipelineContext {
  return createPipelineContext({
    objects: createLocalObjectStore({ root }),
    stateObjects: createLocalObjectStore({ root: join(root, ".musicpipe") }),
    ...createLocalTables({ dir: join(root, ".musicpipe") }),
    ...(now === undefined ? {} : { clock: { now } }),
  });
}

async function records(root: string): Promise<FileRecord[]> {
  const tables = createLocalTables({ dir: join(root, ".musicpipe") });
  const out: FileRecord[] = [];
  for await (const r of tables.files.list()) out.push(r);
  return out;
}

async function expectKpisOf(root: string, valid: string[]) {
  const exported = join(root, "export.json");
  const e = await cli("export", "--root", root, "--out", exported);
  expect(e.code, e.stderr).toBe(0);
  const json = JSON.parse(await readFile(exported, "utf8"));
  const reference = naiveKpis({
    streams: valid.map((content, i): NaiveFile => ({ name: `f${i}.csv`, bytes: Buffer.from(content) })),
    songs: [{ name: "songs.csv", bytes: Buffer.from(SONGS) }],
    users: [{ name: "users.csv", bytes: Buffer.from(USERS) }],
  });
  expect(json.genreStats).toEqual(reference.genreStats);
  expect(json.topSongs).toEqual(reference.topSongs);
  expect(json.topGenres).toEqual(reference.topGenres);
}

describe("rejections and archives with the same name", () => {
  it("keeps 100 same-name rejections moved in the same millisecond, each in data/error/ once", async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 100; i++) files[`s${String(i).padStart(3, "0")}/same.csv`] = invalidFile(i);
    const root = await rootWith(files);
    const frozen = new Date("2026-01-15T12:00:00.000Z");
    const summary = await runPending(
      localContext(root, () => frozen),
      { concurrency: 8 },
    );
    expect(summary.files.filter((f) => f.outcome === "rejected")).toHaveLength(100);
    const places = await expectEachInOnePlace(root, files);
    expect(places.every((p) => p.places[0]!.startsWith("data/error/20260115T120000000Z_"))).toBe(true);
  });

  it("keeps 100 same-name rejections through musicpipe run, and archives same-name valid files apart", async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 100; i++) files[`s${String(i).padStart(3, "0")}/same.csv`] = invalidFile(i);
    for (let i = 0; i < 20; i++) files[`v${String(i).padStart(2, "0")}/same.csv`] = validFile(i);
    const root = await rootWith(files);
    const r = await cli("run", "--root", root, "--json", "--quiet");
    const summary = JSON.parse(r.stdout) as { files: { outcome: string }[] };
    expect(summary.files.filter((f) => f.outcome === "rejected")).toHaveLength(100);
    expect(summary.files.filter((f) => f.outcome === "archived")).toHaveLength(20);
    await expectEachInOnePlace(root, files);
    await expectKpisOf(
      root,
      Array.from({ length: 20 }, (_, i) => validFile(i)),
    );
  });
});

describe("long names", () => {
  it("archives and rejects files whose names fill the file system's 255 bytes", async () => {
    const long = `${"n".repeat(242)}.csv`; // 246 bytes
    const wide = `${"é".repeat(123)}.csv`; // 250 bytes, two bytes a character
    const files = {
      [long]: validFile(1),
      [wide]: validFile(2),
      [`bad-${"x".repeat(243)}.csv`]: invalidFile(1),
    };
    const root = await rootWith(files);
    const r = await cli("run", "--root", root, "--json", "--quiet");
    const summary = JSON.parse(r.stdout) as {
      files: { fileKey: string; outcome: string; movedTo?: string }[];
    };
    expect(summary.files.map((f) => f.outcome).sort()).toEqual(["archived", "archived", "rejected"]);
    for (const f of summary.files)
      expect(Buffer.byteLength(f.movedTo!.split("/").pop()!)).toBeLessThanOrEqual(255);
    await expectEachInOnePlace(root, files);
    // The records keep the original keys.
    expect((await records(root)).map((x) => x.fileKey).sort()).toEqual(
      Object.keys(files)
        .map((n) => `data/raw/streams/${n}`)
        .sort(),
    );
    expect((await cli("run", "--root", root, "--json", "--quiet")).code).toBe(0);
    await expectKpisOf(root, [validFile(1), validFile(2)]);
  });
});

describe("files run does not process", () => {
  it("reports symbolic links, backslash names and other files on stderr and in the JSON summary", async () => {
    const root = await rootWith({ "a.csv": validFile(1), "notes.txt": "not a delivery" });
    await writeFile(join(root, "elsewhere.csv"), validFile(2));
    await symlink(join(root, "elsewhere.csv"), join(root, "data/raw/streams/link.csv"));
    await writeFile(join(root, "data/raw/streams/back\\slash.csv"), validFile(3));
    const r = await cli("run", "--root", root, "--json", "--quiet");
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as { files: unknown[]; skipped: { key: string; reason: string }[] };
    expect(summary.files).toHaveLength(1);
    expect(summary.skipped).toEqual([
      { key: "data/raw/streams/back\\slash.csv", reason: "unsafe_name" },
      { key: "data/raw/streams/link.csv", reason: "symbolic_link" },
      { key: "data/raw/streams/notes.txt", reason: "not_an_input" },
    ]);
    for (const name of ["back\\slash.csv", "link.csv", "notes.txt"])
      expect(r.stderr).toContain(`skipped  data/raw/streams/${name}: `);
  });

  it("removes the temporary files a killed run left under the root and its state folder", async () => {
    const root = await rootWith({ "a.csv": validFile(1) });
    const dead = await deadPid();
    for (const dir of [join(root, ".musicpipe-tmp"), join(root, ".musicpipe", ".musicpipe-tmp")]) {
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, `${dead}-half-written`), "{half");
    }
    const r = await cli("run", "--root", root, "--quiet");
    expect(r.code, r.stderr).toBe(0);
    expect(await readdir(join(root, ".musicpipe-tmp"))).toEqual([]);
    expect(await readdir(join(root, ".musicpipe", ".musicpipe-tmp"))).toEqual([]);
  });
});

describe("records left half-way", () => {
  it("finishes a move recorded but not done, and closes a record whose file is gone, once", async () => {
    const files = { "a.csv": validFile(1), "b.csv": invalidFile(2), "c.csv": invalidFile(3) };
    const root = await rootWith(files);
    const ctx = localContext(root);
    // A run that died after recording where the files go, before moving them.
    const { move: _move, ...copyOnly } = ctx.objects;
    for (const key of ["data/raw/streams/b.csv", "data/raw/streams/c.csv"]) {
      const stopped = createPipelineContext({
        ...ctx,
        objects: { ...copyOnly, copy: () => Promise.reject(new Error("killed")) },
      });
      await expect(validateStage(stopped, key)).rejects.toThrow("killed");
    }
    // c.csv is deleted by hand meanwhile: its bytes are gone.
    await rm(join(root, "data/raw/streams/c.csv"));
    const tables = createLocalTables({ dir: join(root, ".musicpipe") });
    expect((await tables.files.get("data/raw/streams/b.csv"))?.archivalStatus).toBe("IN_PROGRESS");

    const first = await cli("run", "--root", root, "--json", "--quiet");
    const summary = JSON.parse(first.stdout) as {
      files: { fileKey: string; outcome: string; error?: { code: string } }[];
    };
    const byKey = Object.fromEntries(summary.files.map((f) => [f.fileKey, f]));
    expect(byKey["data/raw/streams/a.csv"]?.outcome).toBe("archived");
    expect(byKey["data/raw/streams/b.csv"]?.outcome).toBe("rejected");
    expect(byKey["data/raw/streams/c.csv"]?.error?.code).toBe("file_lost");
    const status = await cli("status", "--root", root);
    expect(status.stdout).toMatch(/data\/raw\/streams\/c\.csv.*archival=FAILED/);
    // Nothing is stuck: the next run has nothing to do and succeeds.
    const second = await cli("run", "--root", root, "--json", "--quiet");
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout).files).toEqual([]);
    expect(
      (await records(root)).every((x) => x.archivalStatus === "SUCCESS" || x.archivalStatus === "FAILED"),
    ).toBe(true);
    const { "c.csv": _gone, ...kept } = files;
    await expectEachInOnePlace(root, kept);
  });
});

describe("bytes counted are bytes kept", () => {
  it("keeps a file overwritten after its KPIs were loaded in the archive, and counts the new file as a new delivery", async () => {
    const first = validFile(1);
    const second = validFile(2);
    const root = await rootWith({ "a.csv": first });
    const ctx = localContext(root);
    const key = "data/raw/streams/a.csv";
    expect((await validateStage(ctx, key)).status).toBe("SUCCESS");
    expect((await transformStage(ctx, key)).status).toBe("SUCCESS");
    expect((await loadStage(ctx, key)).status).toBe("SUCCESS");
    // Replaced under its key (a new file renamed over it) before the archive stage ran.
    await writeFile(join(root, "replacement.tmp"), second);
    await rename(join(root, "replacement.tmp"), join(root, key));
    const archived = await archiveStage(ctx, key);
    expect(archived.status).toBe("SUCCESS");
    expect(await readFile(join(root, archived.movedTo!), "utf8")).toBe(first);
    expect(await readFile(join(root, key), "utf8")).toBe(second);
    const again = await cli("run", "--root", root, "--json", "--quiet");
    expect(again.code, again.stderr).toBe(0);
    await expectEachInOnePlace(root, { "a.csv": first, "a2.csv": second });
    await expectKpisOf(root, [first, second]);
  });

  it("counts only the new file when one is replaced after validation, before its KPIs were stored", async () => {
    const first = validFile(3);
    const second = validFile(4);
    const root = await rootWith({ "a.csv": first });
    const key = "data/raw/streams/a.csv";
    expect((await validateStage(localContext(root), key)).status).toBe("SUCCESS");
    await writeFile(join(root, "replacement.tmp"), second);
    await rename(join(root, "replacement.tmp"), join(root, key));
    // The next run finds another etag at the key: a new delivery, validated from the start.
    const r = await cli("run", "--root", root, "--json", "--quiet");
    expect(r.code, r.stderr).toBe(0);
    expect((await cli("status", "--root", root)).stdout).toMatch(/deliveries=2/);
    await expectEachInOnePlace(root, { "a2.csv": second });
    await expectKpisOf(root, [second]);
  });
});

/** A pid that no process has (a child that exited). */
async function deadPid(): Promise<number> {
  const child = execFile(process.execPath, ["-e", ""]);
  await new Promise((done) => child.on("exit", done));
  return child.pid!;
}

describe("the root lock", () => {
  it("refuses a run while a living process holds the lock, in one line, touching nothing", async () => {
    const root = await rootWith({ "a.csv": validFile(1) });
    await mkdir(join(root, ".musicpipe"), { recursive: true });
    await writeFile(join(root, ".musicpipe/lock"), `${process.pid} held-by-this-test\n`);
    const r = await cli("run", "--root", root);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^musicpipe run: another musicpipe run \(pid \d+\) is using .*; wait for it to finish\n$/,
    );
    expect(await walk(join(root, "data/raw/streams"))).toHaveLength(1);
    expect(await readFile(join(root, ".musicpipe/lock"), "utf8")).toBe(`${process.pid} held-by-this-test\n`);
  });
});

describe("several runs on one root at the same instant", () => {
  const files: Record<string, string> = {};
  for (let i = 0; i < 16; i++) files[`d${i % 4}/v${i}.csv`] = validFile(i);
  // Same base names in several folders: rejected ones and archived ones.
  for (let i = 0; i < 8; i++) files[`d${i}/bad.csv`] = invalidFile(i);
  for (let i = 0; i < 4; i++) files[`e${i}/same.csv`] = validFile(100 + i);
  const valid = Object.entries(files)
    .filter(([, c]) => c.startsWith("user_id,track_id"))
    .map(([, c]) => c);

  const cases: { name: string; mode: "cli" | "stages"; staleLock: boolean }[] = [
    { name: "with the lock", mode: "cli", staleLock: false },
    { name: "with a stale lock", mode: "cli", staleLock: true },
    { name: "the stages alone, no lock", mode: "stages", staleLock: false },
  ];
  for (const c of cases) {
    it(
      `keeps every file in one place and every record finished: ${c.name}, ${TRIALS} trials of 4 runs`,
      async () => {
        const template = await rootWith(files);
        for (let trial = 0; trial < TRIALS; trial++) {
          const root = `${template}-t${trial}`;
          await cp(template, root, { recursive: true });
          if (c.staleLock) {
            await mkdir(join(root, ".musicpipe"), { recursive: true });
            await writeFile(join(root, ".musicpipe/lock"), `${await deadPid()} stale-token\n`);
          }
          const start = Date.now() + 700;
          const results = await Promise.all(
            [0, 1, 2, 3].map(() =>
              run(process.execPath, [RACE, c.mode, root, String(start)], { timeout: 60_000 }),
            ),
          );
          for (const r of results) {
            const { code } = JSON.parse(r.stdout) as { code: number };
            // 0 done, 1 some file rejected, 2 the root was busy (another run held the lock).
            expect([0, 1, 2]).toContain(code);
          }
          await expectEachInOnePlace(root, files);
          // Whatever a yielding run left is finished by one more; nothing is stuck.
          const after = await cli("run", "--root", root, "--json", "--quiet");
          expect([0, 1], after.stderr).toContain(after.code);
          const summary = JSON.parse(after.stdout) as { files: { outcome: string }[] };
          expect(summary.files.filter((f) => f.outcome === "failed")).toEqual([]);
          await expectEachInOnePlace(root, files);
          expect(await walk(join(root, "data/raw/streams"))).toEqual([]);
          const open = (await records(root)).filter((r) => r.archivalStatus !== "SUCCESS");
          expect(open).toEqual([]);
          await expectKpisOf(root, valid);
          await rm(root, { recursive: true, force: true });
        }
      },
      60_000 + TRIALS * 20_000,
    );
  }
});
