import { BlobFormatError, ConfigurationError } from "../errors/index.js";
import { compareBytes } from "../fast/byte-order.js";
import { TOP_SONGS_PER_GENRE } from "../kpi/accumulator.js";
import { compareCodePoints } from "../kpi/order.js";
import { TopList } from "../kpi/ranking.js";
import type { CompiledCatalog } from "./catalog-blob.js";
import { addSorted, mergeAll, safeSum, sortWithCounts, unionSorted } from "./cells.js";
import { ByteReader, ByteWriter, readBlob, writeBlob } from "./codec.js";
import { bytesHex, decodePartialDay, hexBytes, type PartialDay } from "./partial.js";
import { MAX_SHARDS, shardOf } from "./shards.js";

/** Version of the day state blob written by this release. */
export const DAY_STATE_BLOB_VERSION = 1;

const decoder = new TextDecoder();

/** One genre's cells in one shard of a day state. */
export interface ShardGenre {
  readonly genre: string;
  /** Listening time (in shard 0; 0 in the others). */
  readonly totalMs: number;
  /** Track numbers, ascending, and their listens (in shard 0; empty in the others). */
  readonly tracks: Int32Array;
  readonly counts: Int32Array;
  /** The shard's listeners, by user number, ascending. */
  readonly users: Int32Array;
}

/** A track a day state counts that its catalog does not have (the catalog changed): kept with its label. */
export interface ExtraTrack {
  readonly id: Uint8Array;
  readonly name: Uint8Array;
  readonly artists: Uint8Array | undefined;
}

/**
 * One listener shard of a listen date's stored state: every partial it includes (their
 * fingerprints), and the merged cells. Shard 0 also holds the date's listens per track and
 * listening time; every shard holds the listeners whose `user_id` hashes to it. Track and user
 * numbers are those of the compiled catalog `catalog`, then of the extras: ids the state counts
 * that the catalog does not have (number `trackBase + i` is `extraTracks[i]`).
 */
export interface DayShard {
  readonly listenDate: string;
  readonly shard: number;
  readonly shards: number;
  readonly catalog: string;
  readonly trackBase: number;
  readonly userBase: number;
  readonly extraTracks: readonly ExtraTrack[];
  readonly extraUsers: readonly Uint8Array[];
  /** Fingerprints (content SHA-256, hex) of the partials included, ascending. */
  readonly sources: readonly string[];
  readonly genres: readonly ShardGenre[];
}

/** One song of a genre's top list, as the KPI sets show it. */
export interface SummarySong {
  readonly trackId: string;
  readonly trackName: string;
  readonly artists?: string | undefined;
  readonly listenCount: number;
}

/**
 * What a day state shard contributes to its date's KPIs, small enough to read alone: per genre
 * the shard's distinct listeners, and in shard 0 the listens, listening time and top songs.
 */
export interface ShardSummary {
  readonly listenDate: string;
  readonly shard: number;
  readonly shards: number;
  readonly catalog: string;
  readonly sourceCount: number;
  readonly sourcesDigest: string;
  readonly genres: readonly {
    readonly genre: string;
    readonly uniqueListeners: number;
    readonly listenCount?: number | undefined;
    readonly totalListeningTimeMs?: number | undefined;
    readonly topSongs?: readonly SummarySong[] | undefined;
  }[];
}

/** An order-independent digest of a set of fingerprints: the XOR of their bytes, hex. */
export function sourcesDigest(sources: Iterable<string>): string {
  const acc = new Uint8Array(32);
  for (const s of sources) {
    const b = hexBytes(s);
    for (let i = 0; i < 32; i++) acc[i]! ^= b[i]!;
  }
  return bytesHex(acc);
}

/** A decoded partial with the fingerprint of the file it came from. */
export interface SourcePartial {
  readonly fingerprint: string;
  readonly day: PartialDay;
}

/** Ids by number in a state's or partial's number space: the catalog's, then extras. */
interface Space {
  readonly catalog: CompiledCatalog;
  readonly extraTracks: readonly ExtraTrack[];
  readonly extraUsers: readonly Uint8Array[];
}

function trackIdBytes(space: Space, t: number): Uint8Array {
  const base = space.catalog.index.trackCount;
  return t < base ? space.catalog.index.tracks.bytesOf(t) : space.extraTracks[t - base]!.id;
}

function userIdBytes(space: Space, u: number): Uint8Array {
  const base = space.catalog.index.userCount;
  return u < base ? space.catalog.index.users.bytesOf(u) : space.extraUsers[u - base]!;
}

/** Numbers of a target catalog for ids of other spaces; ids it lacks become extras. */
class Renumbering {
  readonly #target: CompiledCatalog;
  readonly #tracks = new Map<string, { id: Uint8Array; label: ExtraTrack; mark: number }>();
  readonly #users = new Map<string, { id: Uint8Array; mark: number }>();
  #trackFinal: Int32Array | undefined;
  #userFinal: Int32Array | undefined;
  readonly extraTracks: ExtraTrack[] = [];
  readonly extraUsers: Uint8Array[] = [];

  constructor(target: CompiledCatalog) {
    this.#target = target;
  }

  /** The target number of track `t` of `from`, or a mark (below zero) for an extra, resolved by {@link finish}. */
  track(from: Space, t: number): number {
    const id = trackIdBytes(from, t);
    const found = this.#target.index.tracks.find(id, 0, id.length);
    if (found !== -1) return found;
    const key = decoder.decode(id);
    let extra = this.#tracks.get(key);
    if (extra === undefined) {
      const base = from.catalog.index.trackCount;
      const table = from.catalog.index.trackTable;
      const label: ExtraTrack =
        t < base
          ? { id, name: table.nameBytes(t), artists: table.artistsBytes(t) }
          : from.extraTracks[t - base]!;
      extra = { id, label, mark: -1 - this.#tracks.size };
      this.#tracks.set(key, extra);
    }
    return extra.mark;
  }

  user(from: Space, u: number): number {
    const id = userIdBytes(from, u);
    const found = this.#target.index.users.find(id, 0, id.length);
    if (found !== -1) return found;
    const key = decoder.decode(id);
    let extra = this.#users.get(key);
    if (extra === undefined) {
      extra = { id, mark: -1 - this.#users.size };
      this.#users.set(key, extra);
    }
    return extra.mark;
  }

  /** Sorts the extras by id and fixes their numbers (after every id was renumbered). */
  finish(): void {
    const tracks = [...this.#tracks.values()].sort((a, b) => compareBytes(a.id, b.id));
    this.#trackFinal = new Int32Array(tracks.length);
    tracks.forEach((e, i) => {
      this.#trackFinal![-1 - e.mark] = this.#target.index.trackCount + i;
      this.extraTracks.push(e.label);
    });
    const users = [...this.#users.values()].sort((a, b) => compareBytes(a.id, b.id));
    this.#userFinal = new Int32Array(users.length);
    users.forEach((e, i) => {
      this.#userFinal![-1 - e.mark] = this.#target.index.userCount + i;
      this.extraUsers.push(e.id);
    });
  }

  finalTrack(n: number): number {
    return n >= 0 ? n : this.#trackFinal![-1 - n]!;
  }

  finalUser(n: number): number {
    return n >= 0 ? n : this.#userFinal![-1 - n]!;
  }
}

interface Cells {
  genre: string;
  totalMs: number;
  tracks: Int32Array;
  counts: Int32Array;
  users: Int32Array;
}

/** Cells of one shard, renumbered into the target (marks for extras, unsorted). */
function renumberCells(cells: readonly Cells[], from: Space, to: Renumbering): Cells[] {
  return cells.map((c) => ({
    genre: c.genre,
    totalMs: c.totalMs,
    tracks: c.tracks.map((t) => to.track(from, t)),
    counts: c.counts,
    users: c.users.map((u) => to.user(from, u)),
  }));
}

function fixCells(cells: Cells[], to: Renumbering): Cells[] {
  return cells.map((c) => {
    const sorted = sortWithCounts(
      c.tracks.map((t) => to.finalTrack(t)),
      c.counts,
    );
    return {
      genre: c.genre,
      totalMs: c.totalMs,
      tracks: sorted.keys,
      counts: sorted.counts,
      users: c.users.map((u) => to.finalUser(u)).sort(),
    };
  });
}

/** Merges cell lists genre by genre (genres by name). */
function mergeCells(a: Cells[], b: Cells[], where: string): Cells[] {
  const out: Cells[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const order = i >= a.length ? 1 : j >= b.length ? -1 : compareCodePoints(a[i]!.genre, b[j]!.genre);
    if (order < 0) out.push(a[i++]!);
    else if (order > 0) out.push(b[j++]!);
    else {
      const x = a[i++]!;
      const y = b[j++]!;
      const what = () => `listens of a track of ${where}/${x.genre}`;
      const { keys, counts } = addSorted(x.tracks, x.counts, y.tracks, y.counts, what);
      out.push({
        genre: x.genre,
        totalMs: safeSum(x.totalMs, y.totalMs, () => `listening time of ${where}/${x.genre}`),
        tracks: keys,
        counts,
        users: unionSorted(x.users, y.users),
      });
    }
  }
  return out;
}

/**
 * The union of ascending lists of user numbers (`total` numbers in all), ascending. Where the
 * lists hold many numbers for the span they cover (a cell of a date with many listeners), a
 * bitmap of that span; otherwise the lists are joined and sorted.
 */
export function unionOfSorted(lists: readonly Int32Array[], total: number): Int32Array {
  let low = 0;
  let high = -1;
  for (const list of lists) {
    if (list.length === 0) continue;
    low = Math.min(low, list[0]!);
    high = Math.max(high, list[list.length - 1]!);
  }
  if (low >= 0 && high >= 0 && total * 64 >= high) {
    const bits = new Uint32Array((high >>> 5) + 1);
    for (const list of lists)
      for (let i = 0; i < list.length; i++) bits[list[i]! >>> 5]! |= 1 << (list[i]! & 31);
    let count = 0;
    for (let w = 0; w < bits.length; w++) {
      let x = bits[w]!;
      x -= (x >>> 1) & 0x55555555;
      x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
      count += (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
    }
    const out = new Int32Array(count);
    let at = 0;
    for (let w = 0; w < bits.length; w++) {
      let x = bits[w]!;
      while (x !== 0) {
        const lowest = x & -x;
        out[at++] = (w << 5) + 31 - Math.clz32(lowest);
        x ^= lowest;
      }
    }
    return out;
  }
  const all = new Int32Array(total);
  let at = 0;
  for (const list of lists) {
    all.set(list, at);
    at += list.length;
  }
  all.sort();
  let kept = 0;
  for (let i = 0; i < all.length; i++) if (i === 0 || all[i] !== all[kept - 1]) all[kept++] = all[i]!;
  return all.subarray(0, kept);
}

/**
 * Merges many cell lists: per genre, the listeners of every list at once (concatenated, sorted
 * natively, repeats dropped), the track counts in a balanced tree of pairwise merges.
 */
function mergeMany(lists: readonly Cells[][], where: string): Cells[] {
  if (lists.length <= 2)
    return mergeAll(
      lists,
      (a, b) => mergeCells(a, b, where),
      () => [],
    );
  const byGenre = new Map<string, Cells[]>();
  for (const list of lists) {
    for (const c of list) {
      const same = byGenre.get(c.genre);
      if (same === undefined) byGenre.set(c.genre, [c]);
      else same.push(c);
    }
  }
  const genres = [...byGenre.keys()].sort(compareCodePoints);
  return genres.map((genre) => {
    const cells = byGenre.get(genre)!;
    if (cells.length === 1) return cells[0]!;
    let total = 0;
    let users = 0;
    for (const c of cells) {
      total = safeSum(total, c.totalMs, () => `listening time of ${where}/${genre}`);
      users += c.users.length;
    }
    const union = unionOfSorted(
      cells.map((c) => c.users),
      users,
    );
    const what = () => `listens of a track of ${where}/${genre}`;
    const counted = mergeAll(
      cells.map((c) => ({ keys: c.tracks, counts: c.counts })),
      (a, b) => addSorted(a.keys, a.counts, b.keys, b.counts, what),
      () => ({ keys: new Int32Array(0), counts: new Int32Array(0) }),
    );
    return {
      genre,
      totalMs: total,
      tracks: counted.keys,
      counts: counted.counts,
      users: union,
    };
  });
}

/** A partial's cells for one shard of a date stored with `shards` shards (regrouped when the partial has another count). */
function partialCells(
  p: PartialDay,
  shard: number,
  shards: number,
  catalog: CompiledCatalog | undefined,
): Cells[] {
  return p.genres.map((g) => {
    let users: Int32Array;
    if (p.shards === shards) users = g.users[shard] ?? new Int32Array(0);
    else {
      const all = mergeAll(g.users, unionSorted, () => new Int32Array(0));
      users = all.filter((u) => shardOf(catalog!.index.users.bytesOf(u), shards) === shard);
    }
    return shard === 0
      ? { genre: g.genre, totalMs: g.totalMs, tracks: g.tracks, counts: g.counts, users }
      : { genre: g.genre, totalMs: 0, tracks: new Int32Array(0), counts: new Int32Array(0), users };
  });
}

/**
 * Merges new partials into one shard of a date's state: the partials whose fingerprint the
 * state already includes change nothing; the others are merged (exactly: listens added,
 * listeners united) and their fingerprints recorded. Returns `undefined` when nothing is new.
 *
 * When the partials were computed against another compiled catalog than the state's (the
 * catalog changed), the state and those partials are renumbered into the catalog most of the
 * new partials use; ids that catalog lacks are kept as extras. `catalogs` gives a compiled
 * catalog by digest (needed then, and for shard 0's top songs).
 */
export async function absorb(
  state: DayShard | undefined,
  partials: readonly SourcePartial[],
  target: { readonly listenDate: string; readonly shard: number; readonly shards: number },
  catalogs: (digest: string) => Promise<CompiledCatalog>,
): Promise<DayShard | undefined> {
  const { listenDate, shard, shards } = target;
  if (!Number.isInteger(shards) || shards < 1 || shards > MAX_SHARDS || shard < 0 || shard >= shards)
    throw new ConfigurationError(`listener shard ${shard} of ${shards} is out of range`);
  const included = new Set(state?.sources ?? []);
  const fresh: SourcePartial[] = [];
  for (const p of partials) {
    if (p.day.listenDate !== listenDate)
      throw new BlobFormatError(
        "partial",
        `a partial of ${p.day.listenDate} cannot join the state of ${listenDate}`,
      );
    if (included.has(p.fingerprint)) continue;
    included.add(p.fingerprint);
    fresh.push(p);
  }
  if (fresh.length === 0) return undefined;
  // The catalog to number everything in: the state's, unless most new partials use another.
  const uses = new Map<string, number>();
  for (const p of fresh) uses.set(p.day.catalog, (uses.get(p.day.catalog) ?? 0) + 1);
  let catalog = state?.catalog;
  if (catalog === undefined || !uses.has(catalog)) {
    catalog = [...uses].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]![0];
  }
  // Compiled catalogs are read only where needed: renumbering, regrouping listeners into
  // another shard count, and shard 0's top songs (their names).
  const needsFix =
    (state !== undefined && state.catalog !== catalog) || fresh.some((p) => p.day.catalog !== catalog);
  const need = new Set<string>();
  if (shard === 0 || needsFix) need.add(catalog);
  if (needsFix && state !== undefined) need.add(state.catalog);
  for (const p of fresh) if (p.day.catalog !== catalog || p.day.shards !== shards) need.add(p.day.catalog);
  const compiled = new Map<string, CompiledCatalog>();
  for (const digest of need) compiled.set(digest, await catalogs(digest));
  const renumbering = needsFix ? new Renumbering(compiled.get(catalog)!) : undefined;
  let baseCells: Cells[] = (state?.genres ?? []).map((g) => ({ ...g }));
  if (state !== undefined && renumbering !== undefined) {
    const from: Space = {
      catalog: compiled.get(state.catalog)!,
      extraTracks: state.extraTracks,
      extraUsers: state.extraUsers,
    };
    baseCells = renumberCells(baseCells, from, renumbering);
  }
  const parts: Cells[][] = [];
  for (const p of fresh) {
    const cells = partialCells(p.day, shard, shards, compiled.get(p.day.catalog));
    if (renumbering === undefined) parts.push(cells);
    else {
      const from: Space = {
        catalog: compiled.get(p.day.catalog) ?? compiled.get(catalog)!,
        extraTracks: [],
        extraUsers: [],
      };
      parts.push(p.day.catalog === catalog ? cells : renumberCells(cells, from, renumbering));
    }
  }
  const base = fresh.find((p) => p.day.catalog === catalog)?.day;
  const trackBase = base?.catalogTracks ?? compiled.get(catalog)?.index.trackCount ?? state!.trackBase;
  const userBase = base?.catalogUsers ?? compiled.get(catalog)?.index.userCount ?? state!.userBase;
  let all = [baseCells, ...parts];
  if (renumbering !== undefined) {
    renumbering.finish();
    all = all.map((cells) => fixCells(cells, renumbering));
  }
  const merged = mergeMany(all, listenDate);
  return {
    listenDate,
    shard,
    shards,
    catalog,
    trackBase,
    userBase,
    extraTracks: renumbering?.extraTracks ?? state?.extraTracks ?? [],
    extraUsers: renumbering?.extraUsers ?? state?.extraUsers ?? [],
    sources: [...included].sort(),
    genres: merged,
  };
}

/** The summary of a shard: per genre its listeners, and in shard 0 listens, time and top songs (labels from `catalog`). */
export function summarize(state: DayShard, catalog: CompiledCatalog | undefined): ShardSummary {
  const base = state.trackBase;
  const space: Space | undefined =
    catalog === undefined
      ? undefined
      : { catalog, extraTracks: state.extraTracks, extraUsers: state.extraUsers };
  const byId = (a: number, b: number) =>
    a < base && b < base ? a - b : compareBytes(trackIdBytes(space!, a), trackIdBytes(space!, b));
  const genres = state.genres.map((g) => {
    if (state.shard !== 0) return { genre: g.genre, uniqueListeners: g.users.length };
    if (space === undefined) throw new Error("summarize: shard 0 needs its compiled catalog");
    let listens = 0;
    const top = new TopList<number>(TOP_SONGS_PER_GENRE, byId);
    for (let i = 0; i < g.tracks.length; i++) {
      listens = safeSum(listens, g.counts[i]!, () => `listen count of ${state.listenDate}/${g.genre}`);
      top.offer(g.tracks[i]!, g.counts[i]!);
    }
    const table = catalog!.index.trackTable;
    const topSongs = top.keys.map((t, r): SummarySong => {
      const extra = t >= base ? state.extraTracks[t - base]! : undefined;
      const artists = extra === undefined ? table.artistsBytes(t) : extra.artists;
      return {
        trackId: decoder.decode(trackIdBytes(space, t)),
        trackName: decoder.decode(extra === undefined ? table.nameBytes(t) : extra.name),
        ...(artists === undefined ? {} : { artists: decoder.decode(artists) }),
        listenCount: top.counts[r]!,
      };
    });
    return {
      genre: g.genre,
      uniqueListeners: g.users.length,
      listenCount: listens,
      totalListeningTimeMs: g.totalMs,
      topSongs,
    };
  });
  return {
    listenDate: state.listenDate,
    shard: state.shard,
    shards: state.shards,
    catalog: state.catalog,
    sourceCount: state.sources.length,
    sourcesDigest: sourcesDigest(state.sources),
    genres,
  };
}

/** The blob of a shard, with its summary as the head (readable alone with a byte range). */
export function encodeDayShard(state: DayShard, summary: ShardSummary): Uint8Array {
  const out = new ByteWriter();
  out.bytes(hexBytes(state.catalog));
  out.string(state.listenDate);
  out.varint(state.shards);
  out.varint(state.shard);
  out.varint(state.trackBase);
  out.varint(state.userBase);
  out.varint(state.extraTracks.length);
  for (const e of state.extraTracks) {
    out.varint(e.id.length);
    out.bytes(e.id);
    out.varint(e.name.length);
    out.bytes(e.name);
    out.varint(e.artists === undefined ? 0 : e.artists.length + 1);
    if (e.artists !== undefined) out.bytes(e.artists);
  }
  out.varint(state.extraUsers.length);
  for (const u of state.extraUsers) {
    out.varint(u.length);
    out.bytes(u);
  }
  out.varint(state.sources.length);
  for (const s of state.sources) out.bytes(hexBytes(s));
  out.varint(state.genres.length);
  for (const g of state.genres) {
    out.string(g.genre);
    if (state.shard === 0) {
      out.varint(g.totalMs);
      out.ascending(g.tracks);
      for (const c of g.counts) out.varint(c);
    }
    out.ascending(g.users);
  }
  return writeBlob("day-state", DAY_STATE_BLOB_VERSION, summary, out.view());
}

function checkSummary(head: unknown, what: string): ShardSummary {
  const s = head as ShardSummary | undefined;
  if (
    typeof s !== "object" ||
    s === null ||
    typeof s.listenDate !== "string" ||
    !Number.isInteger(s.shard) ||
    !Number.isInteger(s.shards) ||
    typeof s.sourcesDigest !== "string" ||
    !Number.isInteger(s.sourceCount) ||
    !Array.isArray(s.genres)
  )
    throw new BlobFormatError("day-state", `${what}: the summary is malformed`);
  return s;
}

/** Reads only the summary of a day state blob (`bytes` may end after the head). */
export function readShardSummary(bytes: Uint8Array, what = "day state"): ShardSummary {
  return checkSummary(readBlob(bytes, "day-state", DAY_STATE_BLOB_VERSION, what, true).head, what);
}

/** Reads a day state blob; not one, another version, or damaged: `BlobFormatError`. */
export function decodeDayShard(
  bytes: Uint8Array,
  what = "day state",
): { state: DayShard; summary: ShardSummary } {
  const { head, body } = readBlob(bytes, "day-state", DAY_STATE_BLOB_VERSION, what);
  const summary = checkSummary(head, what);
  const input = new ByteReader(body, "day-state", what);
  const catalog = bytesHex(input.bytes(32));
  const listenDate = input.string();
  const shards = input.varint();
  const shard = input.varint();
  if (shards < 1 || shards > MAX_SHARDS || shard >= shards)
    input.fail(`shard ${shard} of ${shards} is out of range`);
  const trackBase = input.varint();
  const userBase = input.varint();
  const extraTracks: ExtraTrack[] = [];
  for (let n = input.count(3); n > 0; n--) {
    const id = input.bytes(input.count());
    const name = input.bytes(input.count());
    const a = input.varint();
    extraTracks.push({ id, name, artists: a === 0 ? undefined : input.bytes(a - 1) });
  }
  const extraUsers: Uint8Array[] = [];
  for (let n = input.count(1); n > 0; n--) extraUsers.push(input.bytes(input.count()));
  const sources: string[] = [];
  for (let n = input.count(32); n > 0; n--) sources.push(bytesHex(input.bytes(32)));
  const trackLimit = trackBase + extraTracks.length;
  const userLimit = userBase + extraUsers.length;
  const genres: ShardGenre[] = [];
  for (let n = input.count(); n > 0; n--) {
    const genre = input.string();
    if (genres.length > 0 && compareCodePoints(genres.at(-1)!.genre, genre) >= 0)
      input.fail("genres are not in ascending order");
    let totalMs = 0;
    let tracks: Int32Array = new Int32Array(0);
    let counts: Int32Array = new Int32Array(0);
    if (shard === 0) {
      totalMs = input.varint();
      tracks = input.ascending(trackLimit);
      counts = new Int32Array(tracks.length);
      for (let i = 0; i < tracks.length; i++) {
        const c = input.varint();
        if (c < 1 || c > 0x7fffffff) input.fail("a listen count is out of range");
        counts[i] = c;
      }
    }
    genres.push({ genre, totalMs, tracks, counts, users: input.ascending(userLimit) });
  }
  if (!input.done) input.fail("has bytes after its last genre");
  if (summary.listenDate !== listenDate || summary.shard !== shard || summary.sourceCount !== sources.length)
    input.fail("the summary does not describe the body");
  return {
    state: {
      listenDate,
      shard,
      shards,
      catalog,
      trackBase,
      userBase,
      extraTracks,
      extraUsers,
      sources,
      genres,
    },
    summary,
  };
}

export { decodePartialDay };
