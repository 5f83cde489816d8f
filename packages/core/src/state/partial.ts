import { BlobFormatError } from "../errors/index.js";
import type { CatalogIndex } from "../fast/catalog-index.js";
import type { CompactKpis } from "../fast/compact.js";
import type { KpiPartialState } from "../kpi/accumulator.js";
import { PARTIAL_FORMAT, PARTIAL_VERSION } from "../kpi/limits.js";
import { compareCodePoints, sortedByCodePoint } from "../kpi/order.js";
import { civilFromDays } from "../schema/listen-time.js";
import type { CompiledCatalog } from "./catalog-blob.js";
import { safeSum } from "./cells.js";
import { ByteReader, ByteWriter, readBlob, writeBlob } from "./codec.js";
import { MAX_SHARDS, shardOf } from "./shards.js";

/** Version of the KPI partial blob written by this release. */
export const PARTIAL_BLOB_VERSION = 2;

/** One genre's cells of one listen date in a partial. */
export interface PartialGenre {
  readonly genre: string;
  /** Sum of the listened tracks' `duration_ms`. */
  readonly totalMs: number;
  /** Track numbers of the partial's catalog, ascending, and their listens. */
  readonly tracks: Int32Array;
  readonly counts: Int32Array;
  /** Per listener shard, the user numbers that listened, ascending. */
  readonly users: readonly Int32Array[];
}

/**
 * A file's KPI partial for one listen date, decoded: per genre (by name, ascending) listens per
 * track and the listeners, by number in the compiled catalog `catalog` (its digest), the
 * listeners grouped by listener shard.
 */
export interface PartialDay {
  readonly listenDate: string;
  readonly catalog: string;
  /** Tracks and users of the catalog (every number is below these). */
  readonly catalogTracks: number;
  readonly catalogUsers: number;
  readonly shards: number;
  readonly genres: readonly PartialGenre[];
}

const shardTables = new WeakMap<CatalogIndex, Map<number, Uint16Array>>();

/** The listener shard of every user number of `index`, for `shards` shards (computed once). */
export function userShards(index: CatalogIndex, shards: number): Uint16Array {
  let byCount = shardTables.get(index);
  if (byCount === undefined) {
    byCount = new Map();
    shardTables.set(index, byCount);
  }
  let table = byCount.get(shards);
  if (table === undefined) {
    table = new Uint16Array(index.userCount);
    if (shards > 1) for (let u = 0; u < table.length; u++) table[u] = shardOf(index.users.bytesOf(u), shards);
    byCount.set(shards, table);
  }
  return table;
}

function hexBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function bytesHex(bytes: Uint8Array): string {
  let hex = "";
  for (const b of bytes) hex += b.toString(16).padStart(2, "0");
  return hex;
}

/** Writes a partial day: catalog, date, shards, genres with tracks, then one section per shard of listeners. */
export function encodePartialDay(day: PartialDay): Uint8Array {
  const out = new ByteWriter();
  out.bytes(hexBytes(day.catalog));
  out.varint(day.catalogTracks);
  out.varint(day.catalogUsers);
  out.string(day.listenDate);
  out.varint(day.shards);
  out.varint(day.genres.length);
  let tracks = 0;
  let listeners = 0;
  for (const g of day.genres) {
    out.string(g.genre);
    out.varint(g.totalMs);
    out.ascending(g.tracks);
    for (const c of g.counts) out.varint(c);
    tracks += g.tracks.length;
  }
  for (let s = 0; s < day.shards; s++) {
    const section = new ByteWriter();
    for (const g of day.genres) {
      const users = g.users[s] ?? new Int32Array(0);
      section.ascending(users);
      listeners += users.length;
    }
    out.varint(section.length);
    out.bytes(section.view());
  }
  const head = {
    listenDate: day.listenDate,
    catalog: day.catalog,
    shards: day.shards,
    genres: day.genres.length,
    tracks,
    listeners,
  };
  return writeBlob("partial", PARTIAL_BLOB_VERSION, head, out.view());
}

/**
 * The partials of a file, one blob per listen date, from the fast row source's accumulator over
 * the compiled catalog `compiled`, listeners grouped into `shards` listener shards (`userShard`:
 * each user number's shard, when computed already, e.g. shared with a worker thread).
 */
export function encodePartials(
  compact: CompactKpis,
  compiled: Pick<CompiledCatalog, "index" | "digest">,
  shards: number,
  userShard: Uint16Array = userShards(compiled.index, shards),
): Map<string, Uint8Array> {
  const { index, digest } = compiled;
  const out = new Map<string, Uint8Array>();
  for (const cell of compact.cells()) {
    const listenDate = civilFromDays(cell.day);
    const G = index.genres.length;
    const perGenre = new Int32Array(G);
    for (const t of cell.tracks) perGenre[index.trackGenre[t]!]!++;
    const genres: PartialGenre[] = [];
    const at = new Int32Array(G);
    const tracksOf: Int32Array[] = [];
    const countsOf: Int32Array[] = [];
    const totalOf = new Float64Array(G);
    for (let g = 0; g < G; g++) {
      tracksOf.push(new Int32Array(perGenre[g]!));
      countsOf.push(new Int32Array(perGenre[g]!));
    }
    for (let i = 0; i < cell.tracks.length; i++) {
      const t = cell.tracks[i]!;
      const c = cell.counts[i]!;
      if (c === 0) continue;
      const g = index.trackGenre[t]!;
      tracksOf[g]![at[g]!] = t;
      countsOf[g]![at[g]!++] = c;
      totalOf[g]! += c * index.trackDuration[t]!;
    }
    // Summed as doubles: exact while below 2^53, which is checked once per genre.
    for (let g = 0; g < G; g++)
      safeSum(totalOf[g]!, 0, () => `listening time of ${listenDate}/${index.genres[g]}`);
    for (let g = 0; g < G; g++) {
      if (at[g] === 0) continue;
      const listeners = cell.listeners[g] ?? new Int32Array(0);
      const users: Int32Array[] = [];
      if (shards === 1) users.push(listeners);
      else {
        const sizes = new Int32Array(shards);
        for (const u of listeners) sizes[userShard[u]!]!++;
        for (let s = 0; s < shards; s++) users.push(new Int32Array(sizes[s]!));
        const fill = new Int32Array(shards);
        for (const u of listeners) {
          const s = userShard[u]!;
          users[s]![fill[s]!++] = u;
        }
      }
      genres.push({
        genre: index.genres[g]!,
        totalMs: totalOf[g]!,
        tracks: tracksOf[g]!.subarray(0, at[g]!),
        counts: countsOf[g]!.subarray(0, at[g]!),
        users,
      });
    }
    if (genres.length > 0)
      out.set(
        listenDate,
        encodePartialDay({
          listenDate,
          catalog: digest,
          catalogTracks: index.trackCount,
          catalogUsers: index.userCount,
          shards,
          genres,
        }),
      );
  }
  return out;
}

/**
 * Reads a partial blob. With `shard`, only that shard's listeners are decoded (the others are
 * skipped by their lengths; `users` then holds that shard's at its place and empty arrays
 * elsewhere). A blob that is not a partial of this version, or damaged, fails with
 * `BlobFormatError`; `what` names it in messages.
 */
export function decodePartialDay(bytes: Uint8Array, what = "KPI partial", shard?: number): PartialDay {
  const { body } = readBlob(bytes, "partial", PARTIAL_BLOB_VERSION, what);
  const input = new ByteReader(body, "partial", what);
  const catalog = bytesHex(input.bytes(32));
  const catalogTracks = input.varint();
  const catalogUsers = input.varint();
  const listenDate = input.string();
  if (!/^\d{4}-\d{2}-\d{2}$/.test(listenDate)) input.fail(`'${listenDate}' is not a listen date`);
  const shards = input.varint();
  if (shards < 1 || shards > MAX_SHARDS) input.fail(`${shards} listener shards is out of range`);
  const count = input.count();
  const names: string[] = [];
  const totals: number[] = [];
  const tracks: Int32Array[] = [];
  const counts: Int32Array[] = [];
  for (let g = 0; g < count; g++) {
    const name = input.string();
    if (g > 0 && compareCodePoints(names[g - 1]!, name) >= 0) input.fail("genres are not in ascending order");
    names.push(name);
    totals.push(input.varint());
    const t = input.ascending(catalogTracks);
    const c = new Int32Array(t.length);
    for (let i = 0; i < t.length; i++) {
      const n = input.varint();
      if (n < 1 || n > 0x7fffffff) input.fail("a listen count is out of range");
      c[i] = n;
    }
    tracks.push(t);
    counts.push(c);
  }
  const users: Int32Array[][] = names.map(() => []);
  for (let s = 0; s < shards; s++) {
    const length = input.varint();
    if (shard !== undefined && s !== shard) {
      input.bytes(length);
      for (const list of users) list.push(new Int32Array(0));
      continue;
    }
    const section = new ByteReader(input.bytes(length), "partial", what);
    for (const list of users) list.push(section.ascending(catalogUsers));
    if (!section.done) section.fail("a listener section has bytes left over");
  }
  if (!input.done) input.fail("has bytes after its last section");
  return {
    listenDate,
    catalog,
    catalogTracks,
    catalogUsers,
    shards,
    genres: names.map((genre, g) => ({
      genre,
      totalMs: totals[g]!,
      tracks: tracks[g]!,
      counts: counts[g]!,
      users: users[g]!,
    })),
  };
}

/**
 * A partial blob as the general accumulator's state (ids as strings, track labels from the
 * compiled catalog it was computed with): `KpiAccumulator.fromState(partialToState(blob,
 * compiled))` gives an accumulator of the same data. The catalog must be the partial's (its
 * digest is checked).
 *
 * @example
 * const acc = KpiAccumulator.fromState(partialToState(blob, await ctx.compiledCatalog(digest)));
 */
export function partialToState(blob: Uint8Array, compiled: CompiledCatalog): KpiPartialState {
  const day = decodePartialDay(blob);
  if (day.catalog !== compiled.digest)
    throw new BlobFormatError(
      "partial",
      `the partial refers to catalog ${day.catalog}, not to the given catalog ${compiled.digest}`,
    );
  const { index } = compiled;
  const used = new Set<number>();
  const genres = day.genres.map((g) => {
    const listeners: string[] = [];
    for (const list of g.users) for (const u of list) listeners.push(index.userId(u));
    let listens = 0;
    const tracks: [string, number][] = [];
    g.tracks.forEach((t, i) => {
      used.add(t);
      listens += g.counts[i]!;
      tracks.push([index.trackId(t), g.counts[i]!]);
    });
    return { genre: g.genre, listens, totalMs: g.totalMs, listeners: sortedByCodePoint(listeners), tracks };
  });
  const tracks = [...used]
    .sort((a, b) => a - b)
    .map((t): [string, string, string | null] => [
      index.trackId(t),
      index.trackName(t),
      index.trackArtists(t) ?? null,
    ]);
  return {
    format: PARTIAL_FORMAT,
    version: PARTIAL_VERSION,
    tracks,
    days: [{ date: day.listenDate, genres }],
  };
}

export { bytesHex, hexBytes };
