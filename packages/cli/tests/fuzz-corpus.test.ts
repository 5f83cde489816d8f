// Fuzz corpus: mutated streams, songs and users files (from a fixed seed) through `musicpipe kpis`
// and through `musicpipe run` + `musicpipe export` on a copy of the same root, in batches.
//
// For every root: no command throws or prints a stack trace, the exit codes are 0, 1 or 2, every
// rejection and every bad-row count has a documented code, `kpis` and `run` judge every file
// (streams and catalogs) the same way, every delivered streams file ends in exactly one of
// data/raw/streams, data/archive and data/error with its bytes intact, and `export` after `run`
// equals the `kpis` result.
//
// MUSICPIPE_FUZZ_SEED=N picks another seed (printed at the start); MUSICPIPE_FUZZ_FILES=full (2,000
// streams files, 200 catalogs) or =N (N streams files, N/10 catalogs) a bigger corpus.
// Measured on a shared 2-core machine: the default corpus (300 streams files, 30 catalogs, 3 roots)
// takes about 15 s (20 s with vitest's start-up); the full one (2,000 and 200, 20 roots) 129 s.
import { createHash } from "node:crypto";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { gzipSync } from "node:zlib";
import { DEFAULT_MAX_ROW_BYTES } from "@musicpipe/core";
import { describe, expect, it } from "vitest";
import { Rng } from "../../core/tests/reference/rng.js";
import { cli as runCli, walk } from "./cli-helpers.js";

const SEED = Number(process.env.MUSICPIPE_FUZZ_SEED ?? 20250622) >>> 0;
const SIZE = process.env.MUSICPIPE_FUZZ_FILES ?? "";
const STREAMS_FILES = SIZE === "full" ? 2000 : SIZE === "" ? 300 : Math.max(1, Number(SIZE));
const CATALOG_FILES = SIZE === "full" ? 200 : SIZE === "" ? 30 : Math.max(1, Math.ceil(STREAMS_FILES / 10));
/** Streams files per root (one `kpis` and one `run` each). */
const PER_ROOT = 100;
const ROOTS = Math.ceil(STREAMS_FILES / PER_ROOT);

const ROW_CODES = new Set([
  "column_count",
  "empty_field",
  "invalid_listen_time",
  "listen_date_out_of_range",
  "unknown_track",
  "unknown_user",
  "invalid_duration_ms",
  "invalid_genre",
  "invalid_value",
]);
const FILE_CODES = new Set([
  "empty_file",
  "header_only",
  "missing_column",
  "duplicate_column",
  "invalid_encoding",
  "invalid_gzip",
  "malformed_csv",
  "row_too_large",
  "too_many_bad_rows",
]);

// ---------------------------------------------------------------------------------------------
// Base tables

interface Table {
  header: string[];
  rows: string[][];
}

const pad = (v: number, w = 2) => String(v).padStart(w, "0");

const ODD_TRACKS = ["t🎵", "tré", " t pad ", `t${"x".repeat(2000)}`, "t,comma", "t\nnl", 't"q', "t\u00a0nb"];
const ODD_USERS = ["ü", "u 𝒳", `u${"y".repeat(3000)}`, "u,c", "u\r\nq", '"u"', "u\u3000"];
const GENRES = ["g0", "g1", "g2", "g3", "Hip-Hop/Rap", "émo", "𝄞 classical", "\uE000 private"];

const baseTracks = [...Array.from({ length: 30 }, (_, t) => `t${t}`), ...ODD_TRACKS];
const extraTracks = Array.from({ length: 20 }, (_, t) => `t${30 + t}`);
const baseUsers = [...Array.from({ length: 40 }, (_, u) => `u${u}`), ...ODD_USERS];
const extraUsers = Array.from({ length: 20 }, (_, u) => `u${40 + u}`);

function songsTable(rng: Rng, ids: readonly string[]): Table {
  return {
    header: ["track_id", "track_name", "track_genre", "duration_ms", "artists"],
    rows: ids.map((id, i) => [
      id,
      rng.pick([`Song ${i}`, `Song, "${i}"`, `Line\nbreak ${i}`, `Ünïcode ${i} 🎶`, ""]),
      rng.pick(GENRES),
      String(1000 + rng.int(400_000)),
      rng.pick(["Artist", "A;B", "'X', 'Y'", ""]),
    ]),
  };
}

function usersTable(ids: readonly string[]): Table {
  return { header: ["user_id", "user_name"], rows: ids.map((id, i) => [id, `User ${i}`]) };
}

const ODD_TIMES = [
  "0000-01-01T00:00:00+14:00",
  "0000-06-01 12:00:00",
  "0000-12-31T23:00:00-01:00",
  "0001-01-01 00:00:00",
  "0001-01-01T00:00:00+00:01",
  "9999-12-31 23:59:59",
  "9999-12-31T23:59:59-12:00",
  "9999-12-31T23:59:59.999999999999Z",
  "10000-01-01 00:00:00",
  "-0001-01-01 00:00:00",
  "2024-02-29 12:00:00",
  "2025-02-29 12:00:00",
  "2000-02-29t23:59:59z",
  "1900-02-29 00:00:00",
  "2025-06-22 24:00:00",
  "2025-06-22 23:59:60",
  "2025-06-22 23:60:00",
  "2025-06-22T10:00",
  "2025-06-22T10:00Z",
  "2025-06-22T10:00:00.5",
  "2025-06-22T10:00:00,25+02:00",
  "2025-06-22T10:00:00.1234567890123",
  "2025-06-22T10:00.5",
  "2025-06-22T23:30:00-02:00",
  "2025-06-23T01:00:00+02:00",
  "2025-06-22T10:00:00+24:00",
  "2025-06-22T10:00:00+05:60",
  "2025-06-22T10:00:00+0530",
  "2025-06-22T10:00:00-03",
  "2025-06-22T10:00:00+5",
  "2025-06-22  10:00:00",
  " 2025-06-22 10:00:00 ",
  "\u00a02025-06-22 10:00:00\u3000",
  "\ufeff2025-06-22 10:00:00",
  "2025-6-22 10:00:00",
  "２０２５-06-22 10:00:00",
  "2025-06-22",
  "",
  " ",
  "2025-13-01 00:00:00",
  "2025-00-10 00:00:00",
  "2025-06-31 00:00:00",
];

function normalTime(rng: Rng): string {
  const day = 20 + rng.int(4);
  const t = `2025-06-${pad(day)}${rng.pick([" ", "T", "t"])}${pad(rng.int(24))}:${pad(rng.int(60))}`;
  const secs = rng.chance(0.9) ? `:${pad(rng.int(60))}${rng.chance(0.2) ? `.${rng.int(1000)}` : ""}` : "";
  const zone = rng.pick(["", "", "Z", "z", "+02:00", "-0700", "+01"]);
  return t + secs + zone;
}

function streamRow(rng: Rng, tracks: readonly string[], users: readonly string[]): string[] {
  const r = rng.next();
  const user =
    r < 0.97 ? rng.pick(users) : rng.pick([`zz${rng.int(99)}`, " u1", "u1 ", "", `u${"é".repeat(5000)}`]);
  const s = rng.next();
  const track = s < 0.97 ? rng.pick(tracks) : rng.pick([`tt${rng.int(99)}`, " t1", "T1", "", "t１"]);
  const time = rng.chance(0.95) ? normalTime(rng) : rng.pick(ODD_TIMES);
  return [user, track, time];
}

function streamsTable(rng: Rng, unique: number): Table {
  const tracks = [...baseTracks, ...extraTracks];
  const users = [...baseUsers, ...extraUsers];
  // The unique row: a fraction of a second no other file has (files never collide by content).
  const rows = [["u0", "t0", `2025-06-21 10:00:00.${String(unique + 1).padStart(6, "0")}1`]];
  const count = 3 + rng.int(rng.chance(0.1) ? 400 : 40);
  for (let i = 0; i < count; i++) {
    const row = streamRow(rng, tracks, users);
    rows.push(row);
    if (rng.chance(0.05)) rows.push([...row]); // an exact duplicate
  }
  return { header: ["user_id", "track_id", "listen_time"], rows };
}

// ---------------------------------------------------------------------------------------------
// Mutations of the table, of its text and of its bytes

const HUGE = DEFAULT_MAX_ROW_BYTES;

function mutateTable(rng: Rng, table: Table, kind: "streams" | "songs" | "users", tags: string[]): Table {
  let { header, rows } = { header: [...table.header], rows: table.rows.map((r) => [...r]) };
  const ops = rng.int(3);
  for (let k = 0; k < ops; k++) {
    const op = rng.int(16);
    const col = rng.int(header.length);
    switch (op) {
      case 0: {
        const order = header.map((_, i) => i).sort(() => rng.next() - 0.5);
        header = order.map((i) => header[i]!);
        rows = rows.map((r) => order.map((i) => r[i] ?? ""));
        tags.push("reorder");
        break;
      }
      case 1:
        header.push(header[col]!);
        rows = rows.map((r) => [...r, r[col] ?? ""]);
        tags.push("dupcol");
        break;
      case 2:
        header.splice(col, 1);
        rows = rows.map((r) => r.filter((_, i) => i !== col));
        tags.push("dropcol");
        break;
      case 3:
        header.splice(col, 0, rng.pick(["device", "note", ""]));
        rows = rows.map((r) => {
          const c = [...r];
          c.splice(col, 0, rng.pick(["tv", "a,b", "x\ny", 'q"q', ""]));
          return c;
        });
        tags.push("extracol");
        break;
      case 4:
        header[col] = rng.pick([
          ` ${header[col]} `,
          `\t${header[col]}`,
          header[col]!.toUpperCase(),
          `"${header[col]}"`,
        ]);
        tags.push("hdrname");
        break;
      case 5:
        for (const r of rows) if (rng.chance(0.08)) rng.chance(0.5) ? r.pop() : r.push("extra");
        tags.push("fieldcount");
        break;
      case 6:
        for (let i = 0; i < 4; i++)
          rows.splice(rng.int(rows.length + 1), 0, rng.pick([[""], ["", "", ""], [" ", "\t", " "]]));
        tags.push("blank");
        break;
      case 7:
        if (rows.length > 0) rows[rng.int(rows.length)]![col] = "f".repeat(50_000 + rng.int(100_000));
        tags.push("hugefield");
        break;
      case 8:
        // Rows beyond (and at) the row limit: few, they are big.
        if (rng.chance(0.5) && rows.length > 0) {
          const size = HUGE + rng.pick([-2, -1, 0, 1, 2, 1000]);
          const ch = rng.pick(["h", "é"]);
          rows[rng.int(rows.length)]![col] = ch.repeat(Math.ceil(size / Buffer.byteLength(ch)));
          tags.push("hugerow");
        }
        break;
      case 9:
        rows = [];
        tags.push("hdronly");
        break;
      case 10:
        rows = rows.slice(0, rng.int(3));
        tags.push("short");
        break;
      case 11:
        for (const r of rows) if (rng.chance(0.1)) r[col] = rng.pick(["", " ", "\u00a0"]);
        tags.push("empties");
        break;
      case 12:
        if (kind === "songs")
          for (const r of rows)
            if (rng.chance(0.2))
              r[3] = rng.pick(["-1", "1.5", "1e3", " 12", "+5", "", "9007199254740993", "0", "00012", "١٢"]);
        if (kind === "songs")
          for (const r of rows)
            if (rng.chance(0.1)) r[2] = rng.pick(["123", "1.5e3", " 42 ", "-7", ".5", "NaN"]);
        if (kind === "streams") for (const r of rows) if (rng.chance(0.2)) r[2] = rng.pick(ODD_TIMES);
        tags.push("odd");
        break;
      case 13:
        // Catalog entries that shadow the base ones (another genre) or new odd ids.
        for (const r of rows)
          if (rng.chance(0.2))
            r[0] = rng.pick([...baseTracks.slice(0, 5), ...baseUsers.slice(0, 5), "🎵🎵", "\u0301"]);
        tags.push("ids");
        break;
      case 14:
        rows = [...rows, ...rows.slice(0, rng.int(rows.length + 1))];
        tags.push("repeat");
        break;
      default:
        break;
    }
  }
  return { header, rows };
}

function csvField(rng: Rng, value: string, quoteAll: boolean): string {
  if (quoteAll || /[",\r\n]/.test(value) || rng.chance(0.03)) return `"${value.replaceAll('"', '""')}"`;
  return value;
}

function serialize(rng: Rng, table: Table, tags: string[], plain = false): Buffer {
  if (plain)
    return Buffer.from(
      [table.header, ...table.rows].map((r) => r.map((v) => csvField(rng, v, false)).join(",")).join("\n") +
        "\n",
    );
  const eolMode = rng.pick(["lf", "lf", "lf", "lf", "crlf", "crlf", "mix", "mix", "mixcr", "cr"]);
  if (eolMode !== "lf") tags.push(eolMode);
  const quoteAll = rng.chance(0.1);
  const eol = () =>
    eolMode === "lf"
      ? "\n"
      : eolMode === "crlf"
        ? "\r\n"
        : eolMode === "cr"
          ? "\r"
          : eolMode === "mix"
            ? rng.pick(["\n", "\r\n"])
            : rng.pick(["\n", "\r\n", "\r"]);
  let text = "";
  for (const r of [table.header, ...table.rows])
    text += r.map((v) => csvField(rng, v, quoteAll)).join(",") + eol();
  if (rng.chance(0.15)) text = text.slice(0, -eol().length || undefined);
  if (rng.chance(0.1)) {
    text = `\ufeff${text}`;
    tags.push("bom");
  }
  return Buffer.from(text, "utf8");
}

function mutateBytes(rng: Rng, input: Buffer, tags: string[]): Buffer {
  let bytes = input;
  const ops = rng.chance(0.5) ? 0 : 1 + rng.int(3);
  for (let k = 0; k < ops; k++) {
    const at = rng.int(bytes.length + 1);
    const insert = (b: Uint8Array) => Buffer.concat([bytes.subarray(0, at), b, bytes.subarray(at)]);
    switch (rng.int(8)) {
      case 0:
        if (bytes.length > 0) {
          bytes = Buffer.from(bytes);
          const i = Math.min(at, bytes.length - 1);
          bytes[i] = bytes[i]! ^ (1 << rng.int(8));
        }
        tags.push("flip");
        break;
      case 1:
        bytes = bytes.subarray(0, at);
        tags.push("trunc");
        break;
      case 2: {
        // Mid-character truncation: just after a UTF-8 lead byte.
        const lead = bytes.findIndex((b, i) => i >= at && b >= 0xc0);
        if (lead >= 0) bytes = bytes.subarray(0, lead + 1);
        tags.push("truncutf8");
        break;
      }
      case 3:
        bytes = insert(
          Buffer.from(
            rng.pick([[0xff], [0xc3], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0x80]]),
          ),
        );
        tags.push("badutf8");
        break;
      case 4:
        bytes = insert(Buffer.from([0]));
        tags.push("nul");
        break;
      case 5:
        bytes = insert(Buffer.from(rng.pick(['"', '""', '"a,b"', '"x\n', "'"])));
        tags.push("quote");
        break;
      case 6:
        bytes = insert(Buffer.from(rng.pick(["\r", "\n", "\r\n", ",", "\n\n"])));
        tags.push("eol");
        break;
      default:
        bytes = Buffer.from(rng.pick(["", "\n", "\r\n", ",,,\n", "\ufeff", " \n\t\n", "\ufeff\n"]));
        tags.push("empty");
        break;
    }
  }
  return bytes;
}

/** Maybe gzips the bytes (maybe in two members, maybe corrupt); returns the bytes and the suffix. */
function container(rng: Rng, bytes: Buffer, tags: string[]): { bytes: Buffer; suffix: string } {
  if (!rng.chance(0.2)) return { bytes, suffix: ".csv" };
  let gz: Buffer;
  if (rng.chance(0.3) && bytes.length > 1) {
    const cut = rng.int(bytes.length);
    gz = Buffer.concat([gzipSync(bytes.subarray(0, cut)), gzipSync(bytes.subarray(cut))]);
    tags.push("gz2");
  } else {
    gz = gzipSync(bytes);
    tags.push("gz");
  }
  const r = rng.next();
  if (r < 0.15) {
    gz = Buffer.from(gz);
    const i = rng.int(gz.length);
    gz[i] = gz[i]! ^ (1 << rng.int(8));
    tags.push("gzflip");
  } else if (r < 0.3) {
    gz = gz.subarray(0, rng.int(gz.length));
    tags.push("gztrunc");
  } else if (r < 0.35) {
    gz = Buffer.concat([gz, Buffer.from("garbage")]);
    tags.push("gztail");
  }
  return { bytes: gz, suffix: rng.chance(0.85) ? ".csv.gz" : ".csv" };
}

// ---------------------------------------------------------------------------------------------
// The corpus: roots of streams files and catalogs

interface Generated {
  name: string;
  bytes: Buffer;
}

const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

function generateFile(
  rng: Rng,
  kind: "streams" | "songs" | "users",
  base: Table,
  prefix: string,
  seen: Set<string>,
): Generated {
  for (;;) {
    const tags: string[] = [];
    const table = rng.chance(0.15) ? base : mutateTable(rng, base, kind, tags);
    const { bytes, suffix } = container(rng, mutateBytes(rng, serialize(rng, table, tags), tags), tags);
    const digest = sha(bytes);
    if (seen.has(digest)) continue; // identical bytes would make "where did it go" ambiguous
    seen.add(digest);
    return { name: `${prefix}${tags.slice(0, 6).join("-") || "clean"}${suffix}`, bytes };
  }
}

interface Root {
  streams: Generated[];
  songs: Generated[];
  users: Generated[];
}

function generateRoot(rng: Rng, index: number, streamsCount: number, catalogCount: number): Root {
  const seen = new Set<string>();
  const songs: Generated[] = [
    { name: "b-base.csv", bytes: serialize(rng, songsTable(rng, baseTracks), [], true) },
  ];
  const users: Generated[] = [{ name: "b-base.csv", bytes: serialize(rng, usersTable(baseUsers), [], true) }];
  for (let c = 0; c < catalogCount; c++) {
    // Names before the base ("a-") can shadow its entries; after it ("m-") they add tracks or users.
    const prefix = `${rng.chance(0.3) ? "a" : "m"}${pad(c, 3)}-`;
    if (rng.chance(0.5)) songs.push(generateFile(rng, "songs", songsTable(rng, extraTracks), prefix, seen));
    else users.push(generateFile(rng, "users", usersTable(extraUsers), prefix, seen));
  }
  const streams: Generated[] = [];
  for (let s = 0; s < streamsCount; s++) {
    const unique = index * 100_000 + s;
    streams.push(generateFile(rng, "streams", streamsTable(rng, unique), `s${pad(s, 4)}-`, seen));
  }
  return { streams, songs, users };
}

async function writeRoot(root: Root): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "musicpipe-fuzz-"));
  for (const kind of ["streams", "songs", "users"] as const) {
    await mkdir(join(dir, "data/raw", kind), { recursive: true });
    for (const f of root[kind]) await writeFile(join(dir, "data/raw", kind, f.name), f.bytes);
  }
  return dir;
}

// ---------------------------------------------------------------------------------------------
// Driving the CLI

/** Runs the command in this process, failing the test on a throw, an odd exit code or a stack trace. */
async function cli(...argv: string[]) {
  let result: Awaited<ReturnType<typeof runCli>>;
  try {
    result = await runCli(...argv);
  } catch (e) {
    throw new Error(`musicpipe ${argv[0]} threw: ${(e as Error)?.stack ?? String(e)}`);
  }
  const { code, stderr } = result;
  expect([0, 1, 2], `musicpipe ${argv.join(" ")}: exit ${code}\n${stderr}`).toContain(code);
  expect(stderr, `musicpipe ${argv[0]} printed a stack trace`).not.toMatch(/\n {4}at /);
  return result;
}

/** A file's verdict, comparable between `kpis` and `run`. */
interface Verdict {
  code?: string | undefined;
  read?: number | undefined;
  kept?: number | undefined;
  duplicates?: number | undefined;
  badByCode?: Record<string, number> | undefined;
}

const number = (s: string) => Number(s.replaceAll(",", ""));

/** Parses the per-file lines `kpis` prints on stderr. */
function kpisVerdicts(stderr: string, dir: string): Map<string, Verdict> {
  const verdicts = new Map<string, Verdict>();
  const key = (path: string) => relative(dir, path).split("\\").join("/");
  for (const m of stderr.matchAll(/^rejected (?:streams|songs|users) file \(([^)]*)\): (.*)$/gm)) {
    const file = /^(.*?\.csv(?:\.gz)?): /.exec(m[2]!)?.[1] ?? m[2]!;
    verdicts.set(key(file), { code: m[1]! });
  }
  for (const m of stderr.matchAll(
    /^read (?:streams|songs|users) (.*?\.csv(?:\.gz)?): ([\d,]+) rows, ([\d,]+) kept(?:, ([\d,]+) duplicates)?(?:, dropped: (.*))?$/gm,
  )) {
    const badByCode: Record<string, number> = {};
    for (const d of (m[5] ?? "").matchAll(/([A-Za-z_]+) ([\d,]+)/g)) badByCode[d[1]!] = number(d[2]!);
    verdicts.set(key(m[1]!), {
      read: number(m[2]!),
      kept: number(m[3]!),
      duplicates: number(m[4] ?? "0"),
      badByCode,
    });
  }
  return verdicts;
}

interface RunJson {
  files: {
    fileKey: string;
    outcome: string;
    error?: { code: string };
    validation?: {
      rejection?: { code: string };
      rowCounts?: {
        read: number;
        kept: number;
        duplicates: number;
        bad: number;
        badByCode: Record<string, number>;
      };
    };
  }[];
  catalogFiles: {
    file: string;
    accepted: boolean;
    rejection?: { code: string };
    rowsRead: number;
    rowsKept: number;
    duplicateRows: number;
    badRows: number;
    badRowsByCode: Record<string, number>;
  }[];
  skipped: unknown[];
}

function runVerdicts(json: RunJson): Map<string, Verdict> {
  const verdicts = new Map<string, Verdict>();
  for (const f of json.files) {
    const rejection = f.validation?.rejection;
    const counts = f.validation?.rowCounts;
    if (rejection !== undefined) verdicts.set(f.fileKey, { code: rejection.code });
    else
      verdicts.set(f.fileKey, {
        read: counts?.read,
        kept: counts?.kept,
        duplicates: counts?.duplicates,
        badByCode: counts?.badByCode,
      });
  }
  for (const c of json.catalogFiles) {
    if (!c.accepted) verdicts.set(c.file, { code: c.rejection?.code });
    else
      verdicts.set(c.file, {
        read: c.rowsRead,
        kept: c.rowsKept,
        duplicates: c.duplicateRows,
        badByCode: c.badRowsByCode,
      });
  }
  return verdicts;
}

function expectNamedCodes(verdicts: Map<string, Verdict>, by: string) {
  for (const [file, v] of verdicts) {
    if (v.code !== undefined)
      expect(FILE_CODES, `${by}: ${file} rejected with '${v.code}'`).toContain(v.code);
    for (const code of Object.keys(v.badByCode ?? {}))
      expect(ROW_CODES, `${by}: ${file} bad rows under '${code}'`).toContain(code);
  }
}

const KEEP = process.env.MUSICPIPE_FUZZ_KEEP === "1";

async function checkRoot(root: Root, index: number) {
  const dirA = await writeRoot(root);
  const dirB = `${dirA}-run`;
  await cp(dirA, dirB, { recursive: true });
  const where = `root ${index} (seed ${SEED}${KEEP ? `, ${dirA}` : ""})`;
  const allFiles = root.streams.length + root.songs.length + root.users.length;

  // kpis over the files as they are.
  // Every other root with a looser threshold, so that more damaged files count.
  const share = ["--max-bad-row-share", index % 2 === 0 ? "0.1" : "0.5"];
  const k = await cli("kpis", "--root", dirA, ...share);
  expect([0, 1], `${where}: kpis exit ${k.code}: ${k.stderr.slice(-2000)}`).toContain(k.code);
  const kpis = JSON.parse(k.stdout);
  const fromKpis = kpisVerdicts(k.stderr, dirA);
  expect(fromKpis.size, `${where}: kpis reported ${fromKpis.size} of ${allFiles} files`).toBe(allFiles);
  expectNamedCodes(fromKpis, `${where} kpis`);

  // run + export on a copy.
  const r = await cli("run", "--root", dirB, "--json", "--quiet", ...share);
  expect([0, 1], `${where}: run exit ${r.code}: ${r.stderr.slice(-2000)}`).toContain(r.code);
  const summary = JSON.parse(r.stdout) as RunJson;
  expect(
    summary.files.filter((f) => f.outcome !== "archived" && f.outcome !== "rejected"),
    `${where}: run failed files`,
  ).toEqual([]);
  expect(summary.skipped, `${where}: run skipped files`).toEqual([]);
  for (const f of summary.files) {
    if (f.outcome === "rejected")
      expect(f.validation?.rejection?.code, `${where}: ${f.fileKey}`).toBeTruthy();
    const counts = f.validation?.rowCounts;
    if (counts !== undefined)
      expect(
        Object.values(counts.badByCode).reduce((a, b) => a + b, 0),
        `${where}: ${f.fileKey} bad rows not all under a code`,
      ).toBe(counts.bad);
  }
  for (const c of summary.catalogFiles) {
    if (!c.accepted) expect(c.rejection?.code, `${where}: ${c.file}`).toBeTruthy();
    else
      expect(
        Object.values(c.badRowsByCode).reduce((a, b) => a + b, 0),
        `${where}: ${c.file} bad rows not all under a code`,
      ).toBe(c.badRows);
  }
  const fromRun = runVerdicts(summary);
  expectNamedCodes(fromRun, `${where} run`);
  expect(fromRun.size, `${where}: run reported ${fromRun.size} of ${allFiles} files`).toBe(allFiles);

  // The two commands judge every file the same way.
  const disagreements = [...fromKpis]
    .filter(([file, v]) => JSON.stringify(v) !== JSON.stringify(fromRun.get(file)))
    .map(([file, v]) => ({ file, kpis: v, run: fromRun.get(file) }));
  expect(disagreements, `${where}: kpis and run disagree`).toEqual([]);

  // Every delivered streams file is in exactly one place, with its bytes.
  const places = new Map<string, string[]>();
  for (const sub of ["data/raw/streams", "data/archive", "data/error"]) {
    for (const path of await walk(join(dirB, sub))) {
      const digest = sha(await readFile(path));
      places.set(digest, [...(places.get(digest) ?? []), relative(dirB, path)]);
    }
  }
  const misplaced = root.streams
    .map((f) => ({ name: f.name, places: places.get(sha(f.bytes)) ?? [] }))
    .filter((p) => p.places.length !== 1);
  expect(misplaced, `${where}: streams files not in exactly one place`).toEqual([]);
  expect([...places.values()].flat().length, `${where}: files that were not delivered`).toBe(
    root.streams.length,
  );
  expect(await walk(join(dirB, "data/raw/streams")), `${where}: left in raw`).toEqual([]);

  // export after run equals kpis.
  const e = await cli("export", "--root", dirB);
  expect(e.code, e.stderr).toBe(0);
  const exported = JSON.parse(e.stdout);
  expect(exported.genreStats, `${where}: genreStats`).toEqual(kpis.genreStats);
  expect(exported.topSongs, `${where}: topSongs`).toEqual(kpis.topSongs);
  expect(exported.topGenres, `${where}: topGenres`).toEqual(kpis.topGenres);

  if (!KEEP) {
    await rm(dirA, { recursive: true, force: true });
    await rm(dirB, { recursive: true, force: true });
  }
  const codes: Record<string, number> = {};
  for (const v of fromRun.values()) codes[v.code ?? "accepted"] = (codes[v.code ?? "accepted"] ?? 0) + 1;
  return {
    codes,
    days: new Set(kpis.genreStats.map((g: { listenDate: string }) => g.listenDate)).size,
  };
}

describe(`fuzz corpus: ${STREAMS_FILES} streams files and ${CATALOG_FILES} catalogs in ${ROOTS} roots`, () => {
  it("kpis and run agree, lose no file and never crash", async () => {
    console.log(
      `musicpipe fuzz corpus: seed ${SEED} (MUSICPIPE_FUZZ_SEED), ${STREAMS_FILES} streams files, ${CATALOG_FILES} catalogs (MUSICPIPE_FUZZ_FILES)`,
    );
    const started = performance.now();
    const rng = new Rng(SEED);
    const codes: Record<string, number> = {};
    for (let i = 0; i < ROOTS; i++) {
      const streams = Math.min(PER_ROOT, STREAMS_FILES - i * PER_ROOT);
      const catalogs =
        Math.floor((CATALOG_FILES * (i + 1)) / ROOTS) - Math.floor((CATALOG_FILES * i) / ROOTS);
      const result = await checkRoot(generateRoot(rng, i, streams, catalogs), i);
      for (const [c, n] of Object.entries(result.codes)) codes[c] = (codes[c] ?? 0) + n;
    }
    console.log(
      `musicpipe fuzz corpus: ${ROOTS} roots, files by outcome ${JSON.stringify(codes)}, ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  }, 1_800_000);
});
