import { createHash } from "node:crypto";
import { BlobFormatError } from "../errors/index.js";
import type { CatalogIndex } from "../fast/catalog-index.js";
import { TrackTable, UserTable } from "../fast/catalog-tables.js";
import { ByteInterner } from "../fast/interner.js";
import { Catalog } from "../kpi/catalog.js";
import { indexOf } from "../kpi/compute.js";
import type { FileReport } from "../validate/index.js";
import { ByteReader, ByteWriter, readBlob, writeBlob } from "./codec.js";

/** Version of the compiled catalog blob written by this release. */
export const CATALOG_BLOB_VERSION = 1;

/**
 * A song and user catalog compiled once: every track and user numbered in byte order of its id
 * (the numbers KPI partials and day states refer to), with genres, durations, names and
 * artists. Its `digest` (the SHA-256 of the blob's body) names it: the same catalog content
 * always compiles to the same bytes and digest.
 */
export interface CompiledCatalog {
  readonly digest: string;
  readonly catalog: Catalog;
  readonly index: CatalogIndex;
  /** The reports of the catalog files it was read from. */
  readonly reports: readonly FileReport[];
}

function sharedPrefix(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/** Ids in order, each as (bytes shared with the one before, the rest). */
function writeIds(out: ByteWriter, count: number, bytesOf: (i: number) => Uint8Array): void {
  out.varint(count);
  let previous: Uint8Array = new Uint8Array(0);
  for (let i = 0; i < count; i++) {
    const id = bytesOf(i);
    const shared = sharedPrefix(previous, id);
    out.varint(shared);
    out.varint(id.length - shared);
    out.bytes(id.subarray(shared));
    previous = id;
  }
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

/** Compiles a catalog index (and the reports of its files) into a blob; its digest names it. */
export function encodeCatalog(
  index: CatalogIndex,
  reports: readonly FileReport[],
): { bytes: Uint8Array; digest: string } {
  const out = new ByteWriter();
  out.varint(index.genres.length);
  for (const genre of index.genres) out.string(genre);
  const tracks = index.trackTable;
  writeIds(out, index.trackCount, (t) => index.tracks.bytesOf(t));
  for (let t = 0; t < index.trackCount; t++) {
    out.varint(index.trackGenre[t]!);
    out.varint(index.trackDuration[t]!);
    const name = tracks.nameBytes(t);
    out.varint(name.length);
    out.bytes(name);
    const artists = tracks.artistsBytes(t);
    out.varint(artists === undefined ? 0 : artists.length + 1);
    if (artists !== undefined) out.bytes(artists);
  }
  writeIds(out, index.userCount, (u) => index.users.bytesOf(u));
  const body = out.view().slice();
  const digest = createHash("sha256").update(body).digest("hex");
  const head = {
    digest,
    tracks: index.trackCount,
    users: index.userCount,
    genres: index.genres.length,
    reports,
  };
  return { bytes: writeBlob("catalog", CATALOG_BLOB_VERSION, head, body), digest };
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
  const hasArtists = new Uint8Array(n);
  const labelAt = new Uint32Array(2 * n + 1);
  let labels = new Uint8Array(Math.max(16, n * 32));
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
  for (let t = 0; t < n; t++) {
    const g = input.varint();
    if (g >= genreCount) input.fail("a track's genre is out of range");
    genre[t] = g;
    duration[t] = input.varint();
    labelAt[2 * t] = used;
    append(input.bytes(input.count()));
    labelAt[2 * t + 1] = used;
    const artists = input.varint();
    if (artists > 0) {
      hasArtists[t] = 1;
      append(input.bytes(artists - 1));
    }
    labelAt[2 * t + 2] = used;
  }
  const userIds = readIds(input);
  if (!input.done) input.fail("has bytes after its last user");
  const tracks = new TrackTable(0);
  for (const name of genres) tracks.genreIndex(name);
  tracks.ids = ByteInterner.fromDistinct(ids.arena, ids.starts, identity(n));
  tracks.adopt(genre, duration, hasArtists, labels, labelAt, used);
  const users = new UserTable(0);
  users.ids = ByteInterner.fromDistinct(userIds.arena, userIds.starts, identity(userIds.count));
  const catalog = new Catalog();
  catalog.absorb({ tracks, users });
  const index = indexOf(catalog);
  // The body's checksum was verified, so the digest written with it still names it.
  return { digest, catalog, index, reports: reports as FileReport[] };
}
