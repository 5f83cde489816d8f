import { createHash } from "node:crypto";
import { BlobFormatError } from "../errors/index.js";
import { copyBytes } from "../fast/bytes.js";
import { type CatalogIndex, indexOf } from "../fast/catalog-index.js";
import { TrackTable, UserTable } from "../fast/catalog-tables.js";
import { ByteInterner } from "../fast/interner.js";
import { Catalog, catalogTables } from "../kpi/catalog-model.js";
import type { FileReport } from "../validate/report.js";
import { ByteReader, ByteWriter, readBlob, writeBlob } from "./codec.js";

/** Version of the compiled catalog blob written by this release. */
export const CATALOG_BLOB_VERSION = 2;

/**
 * A song and user catalog compiled once: every track and user numbered in byte order of its id
 * (the numbers KPI partials and day states refer to), with genres, durations, names and
 * artists. Its `digest` names it: the SHA-256 of the SHA-256s of the body's two parts (tracks,
 * then users), so the same catalog files always compile to the same bytes and digest. (Track
 * numbers depend on the ids only; names and artists are kept in the order the files hold them.)
 */
export interface CompiledCatalog {
  readonly digest: string;
  readonly catalog: Catalog;
  readonly index: CatalogIndex;
  /** The reports of the catalog files it was read from. */
  readonly reports: readonly FileReport[];
}

/** Writes `value` (0 to 2^53 - 1) as a LEB128 varint at `at`; returns the position after it. */
function putVarint(out: Uint8Array, at: number, value: number): number {
  if (value < 0x80000000) {
    let v = value | 0;
    while (v >= 0x80) {
      out[at++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    out[at++] = v;
    return at;
  }
  let v = value;
  while (v >= 0x80) {
    out[at++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  out[at++] = v;
  return at;
}

/**
 * Ids in order, each as (bytes shared with the one before, the rest), into `out` from `at`
 * (sized by the caller: at most 10 bytes a key besides its bytes). Id `i` is `arena[starts[i],
 * end)`, `end` being `ends[i]` or (no `ends`) `starts[i + 1]`, the last ending at `used`.
 */
function putIds(out: Uint8Array, at: number, keys: ByteInterner["keys"], count: number): number {
  const { bytes: arena, starts, ends, used } = keys;
  at = putVarint(out, at, count);
  let prevStart = 0;
  let prevLength = 0;
  for (let i = 0; i < count; i++) {
    const start = starts[i]!;
    const length = (ends !== undefined ? ends[i]! : i + 1 < count ? starts[i + 1]! : used) - start;
    const n = Math.min(length, prevLength);
    let shared = 0;
    while (shared < n && arena[start + shared] === arena[prevStart + shared]) shared++;
    if (shared < 0x80) out[at++] = shared;
    else at = putVarint(out, at, shared);
    const rest = length - shared;
    if (rest < 0x80) out[at++] = rest;
    else at = putVarint(out, at, rest);
    at = copyBytes(out, at, arena, start + shared, start + length);
    prevStart = start;
    prevLength = length;
  }
  return at;
}

/** The bytes of the first `count` ids in all. */
function idBytes(keys: ByteInterner["keys"], count: number): number {
  const { starts, ends, used } = keys;
  if (ends === undefined) return used;
  let total = 0;
  for (let i = 0; i < count; i++) total += ends[i]! - starts[i]!;
  return total;
}

function readIds(input: ByteReader): { arena: Uint8Array; starts: Int32Array; count: number } {
  const count = input.count(2);
  const starts = new Int32Array(count + 1);
  let arena = new Uint8Array(Math.max(16, count * 8));
  let used = 0;
  let previousStart = 0;
  let previousLength = 0;
  for (let i = 0; i < count; i++) {
    const shared = input.varint();
    const rest = input.varint();
    if (shared > previousLength) input.fail("an id shares more bytes than the one before has");
    if (used + shared + rest > arena.length) {
      let size = arena.length * 2;
      while (size < used + shared + rest) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(arena.subarray(0, used));
      arena = grown;
    }
    arena.copyWithin(used, previousStart, previousStart + shared);
    arena.set(input.bytes(rest), used + shared);
    starts[i] = used;
    previousStart = used;
    previousLength = shared + rest;
    used += previousLength;
    if (i > 0 && compareAt(arena, starts[i - 1]!, used - previousLength, starts[i]!, used) >= 0)
      input.fail("ids are not in ascending order");
  }
  starts[count] = used;
  return { arena, starts, count };
}

/** Compares `arena[a, aEnd)` with `arena[b, bEnd)` bytewise. */
function compareAt(arena: Uint8Array, a: number, aEnd: number, b: number, bEnd: number): number {
  const n = Math.min(aEnd - a, bEnd - b);
  for (let i = 0; i < n; i++) {
    const d = arena[a + i]! - arena[b + i]!;
    if (d !== 0) return d;
  }
  return aEnd - a - (bEnd - b);
}

function identity(n: number): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  return order;
}

/**
 * The tracks part of a compiled catalog's body: the genre names (canonical order), the track
 * ids (in byte order), each track's genre, duration and label number, then the labels (name
 * and artists) in the order the table holds them. `genres` and `trackGenre` number the genres
 * canonically (by name, those the tracks have).
 */
export function encodeTrackSection(
  genres: readonly string[],
  trackGenre: Int32Array,
  tracks: TrackTable,
): Uint8Array {
  const head = new ByteWriter();
  head.varint(genres.length);
  for (const genre of genres) head.string(genre);
  const n = tracks.size;
  const keys = tracks.ids.keys;
  // At most: the genres, 10 bytes a track's id besides its bytes, 9 for its duration, 5 for its
  // genre and 10 for its two label lengths, besides their bytes.
  const { labels, labelAt, hasArtists, duration } = tracks;
  // Labels are written in the order they sit in (file order when read from a file: read front
  // to back), each track pointing at its own; a label no track has is left out.
  let slots = 0;
  for (let t = 0; t < n; t++) slots = Math.max(slots, tracks.labelSlot(t) + 1);
  // Each track has a label of its own: as many slots as tracks means every label is kept.
  let labelIndex: Int32Array | undefined;
  let kept = n;
  let labelBytes = n === 0 ? 0 : labelAt[2 * n]! - labelAt[0]!;
  if (slots !== n) {
    labelIndex = new Int32Array(slots).fill(-1);
    for (let t = 0; t < n; t++) labelIndex[tracks.labelSlot(t)] = 0;
    kept = 0;
    labelBytes = 0;
    for (let l = 0; l < slots; l++) {
      if (labelIndex[l] === -1) continue;
      labelIndex[l] = kept++;
      labelBytes += labelAt[2 * l + 2]! - labelAt[2 * l]!;
    }
  }
  // At most: the genres, 10 bytes a track's id besides its bytes, 9 for its duration, 5 for its
  // genre, 5 for its label's index and 10 for the label's two lengths, besides their bytes.
  const out = new Uint8Array(head.length + 10 + n * 39 + idBytes(keys, n) + labelBytes);
  out.set(head.view(), 0);
  let at = putIds(out, head.length, keys, n);
  // Without repeated rows (the usual case) every label is kept and keeps its number.
  const renumbered = labelIndex !== undefined && kept !== slots;
  for (let t = 0; t < n; t++) {
    const g = trackGenre[t]!;
    if (g < 0x80) out[at++] = g;
    else at = putVarint(out, at, g);
    at = putVarint(out, at, duration[t]!);
    const slot = tracks.labelSlot(t);
    at = putVarint(out, at, renumbered ? labelIndex![slot]! : slot);
  }
  for (let l = 0; l < slots; l++) {
    if (labelIndex !== undefined && labelIndex[l] === -1) continue;
    const nameFrom = labelAt[2 * l]!;
    const nameTo = labelAt[2 * l + 1]!;
    at = putVarint(out, at, nameTo - nameFrom);
    at = copyBytes(out, at, labels, nameFrom, nameTo);
    if (hasArtists[l] === 0) out[at++] = 0;
    else {
      const artistsTo = labelAt[2 * l + 2]!;
      at = putVarint(out, at, artistsTo - nameTo + 1);
      at = copyBytes(out, at, labels, nameTo, artistsTo);
    }
  }
  // A view, not a copy: the section is copied once more into the blob.
  return out.subarray(0, at);
}

/** The users part of a compiled catalog's body: the user ids, in byte order. */
export function encodeUserSection(users: UserTable): Uint8Array {
  const keys = users.ids.keys;
  const out = new Uint8Array(10 + users.size * 10 + idBytes(keys, users.size));
  return out.subarray(0, putIds(out, 0, keys, users.size));
}

/** The SHA-256 of a compiled catalog body's part (threads compute it beside the part). */
export function sectionDigest(section: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(section).digest());
}

/** A compiled catalog blob from its two parts; its digest names it (see {@link CompiledCatalog}). */
export function assembleCatalog(
  trackSection: Uint8Array,
  userSection: Uint8Array,
  counts: { readonly tracks: number; readonly users: number; readonly genres: number },
  reports: readonly FileReport[],
  digests?: { readonly tracks: Uint8Array; readonly users: Uint8Array },
): { bytes: Uint8Array; digest: string } {
  const digest = createHash("sha256")
    .update(digests?.tracks ?? sectionDigest(trackSection))
    .update(digests?.users ?? sectionDigest(userSection))
    .digest("hex");
  const head = { digest, ...counts, reports };
  return { bytes: writeBlob("catalog", CATALOG_BLOB_VERSION, head, [trackSection, userSection]), digest };
}

/** Compiles a catalog index (and the reports of its files) into a blob; its digest names it. */
export function encodeCatalog(
  index: CatalogIndex,
  reports: readonly FileReport[],
): { bytes: Uint8Array; digest: string } {
  const users = catalogTables.get(index.catalog)!.users;
  return assembleCatalog(
    encodeTrackSection(index.genres, index.trackGenre, index.trackTable),
    encodeUserSection(users),
    { tracks: index.trackCount, users: index.userCount, genres: index.genres.length },
    reports,
  );
}

/**
 * Reads a compiled catalog blob. A blob that is not one, of another version, or damaged fails
 * with {@link BlobFormatError}; `what` names it in messages.
 */
export function decodeCatalog(bytes: Uint8Array, what = "compiled catalog"): CompiledCatalog {
  const { head, body } = readBlob(bytes, "catalog", CATALOG_BLOB_VERSION, what);
  const { reports, digest } = (head ?? {}) as { reports?: unknown; digest?: unknown };
  if (!Array.isArray(reports) || typeof digest !== "string" || !/^[0-9a-f]{64}$/.test(digest))
    throw new BlobFormatError("catalog", `${what}: the head has no reports or digest`);
  const input = new ByteReader(body, "catalog", what);
  const genreCount = input.count();
  const genres: string[] = [];
  for (let g = 0; g < genreCount; g++) genres.push(input.string());
  const ids = readIds(input);
  const n = ids.count;
  const genre = new Int32Array(n);
  const duration = new Float64Array(n);
  const labelOf = new Int32Array(n);
  let labelCount = 0;
  for (let t = 0; t < n; t++) {
    const g = input.varint();
    if (g >= genreCount) input.fail("a track's genre is out of range");
    genre[t] = g;
    duration[t] = input.varint();
    const l = input.varint();
    if (l >= n) input.fail("a track's label is out of range");
    labelOf[t] = l;
    labelCount = Math.max(labelCount, l + 1);
  }
  const hasArtists = new Uint8Array(labelCount);
  const labelAt = new Uint32Array(2 * labelCount + 1);
  let labels = new Uint8Array(Math.max(16, labelCount * 32));
  let used = 0;
  const append = (part: Uint8Array) => {
    if (used + part.length > labels.length) {
      let size = labels.length * 2;
      while (size < used + part.length) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(labels.subarray(0, used));
      labels = grown;
    }
    labels.set(part, used);
    used += part.length;
  };
  for (let l = 0; l < labelCount; l++) {
    labelAt[2 * l] = used;
    append(input.bytes(input.count()));
    labelAt[2 * l + 1] = used;
    const artists = input.varint();
    if (artists > 0) {
      hasArtists[l] = 1;
      append(input.bytes(artists - 1));
    }
    labelAt[2 * l + 2] = used;
  }
  const userIds = readIds(input);
  if (!input.done) input.fail("has bytes after its last user");
  const tracks = new TrackTable(0);
  for (const name of genres) tracks.genreIndex(name);
  tracks.ids = ByteInterner.fromDistinct(ids.arena, ids.starts, identity(n), { lazy: true });
  tracks.adopt(genre, duration, hasArtists, labels, labelAt, used, labelOf);
  const users = new UserTable(0);
  users.ids = ByteInterner.fromDistinct(userIds.arena, userIds.starts, identity(userIds.count), {
    lazy: true,
  });
  const catalog = new Catalog();
  catalog.absorb({ tracks, users });
  const index = indexOf(catalog);
  // The body's checksum was verified, so the digest written with it still names it.
  return { digest, catalog, index, reports: reports as FileReport[] };
}
