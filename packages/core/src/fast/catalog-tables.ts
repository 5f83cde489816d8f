import { compareCodePoints } from "../kpi/order.js";
import type { Track } from "../kpi/types.js";
import { byteOrder, sortWindows } from "./byte-order.js";
import { copyBytes } from "./bytes.js";
import { ByteInterner, type InternerTransfer, internerBuffers, viewOf } from "./interner.js";

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** Grows a typed array to at least `length` elements (doubling), keeping its contents. */
function grown<T extends Int32Array | Uint32Array | Float64Array | Uint8Array>(a: T, length: number): T {
  if (length <= a.length) return a;
  let size = Math.max(16, a.length * 2);
  while (size < length) size *= 2;
  const b = new (a.constructor as new (n: number) => T)(size);
  b.set(a);
  return b;
}

/** A {@link UserTable} as plain arrays, to send to another thread. */
export interface UserTableTransfer {
  readonly ids: InternerTransfer;
  readonly sorted: boolean;
}

/** A {@link TrackTable} as plain arrays, to send to another thread. */
export interface TrackTableTransfer {
  readonly ids: InternerTransfer;
  readonly genre: Int32Array;
  readonly duration: Float64Array;
  readonly labels: Uint8Array;
  readonly labelAt: Uint32Array;
  readonly hasArtists: Uint8Array;
  readonly labelOf: Int32Array | undefined;
  readonly labelsUsed: number;
  readonly genres: readonly string[];
  readonly sorted: boolean;
}

/** UTF-8 bytes of a string, in a scratch buffer reused between calls. */
export class Utf8Scratch {
  #buf = new Uint8Array(256);

  encode(text: string): Uint8Array {
    if (text.length * 3 > this.#buf.length) this.#buf = new Uint8Array(text.length * 3);
    return this.#buf.subarray(0, encoder.encodeInto(text, this.#buf).written);
  }
}

/**
 * User ids by position, interned by their UTF-8 bytes: the columnar form of a catalog's users.
 * Positions are the order of first addition until {@link sortByBytes} renumbers them in byte
 * (code point) order.
 */
export class UserTable {
  ids: ByteInterner;
  #sorted = true;

  constructor(expected = 1024) {
    this.ids = new ByteInterner(expected, expected * 12);
  }

  get size(): number {
    return this.ids.size;
  }

  /** Whether positions are in byte order of the ids. */
  get sorted(): boolean {
    return this.#sorted || this.ids.size < 2;
  }

  /** Adds the id in `bytes[start, end)` unless known; its position, and whether it is new. */
  addBytes(view: DataView, bytes: Uint8Array, start: number, end: number): boolean {
    const before = this.ids.size;
    this.ids.internIn(view, bytes, start, end);
    if (this.ids.size === before) return false;
    this.#sorted = false;
    return true;
  }

  id(position: number): string {
    return decoder.decode(this.ids.bytesOf(position));
  }

  /** Renumbers positions in byte order; returns the old position of each new one. */
  sortByBytes(): Int32Array | undefined {
    if (this.sorted) return undefined;
    const order = byteOrder(this.ids);
    this.ids.renumber(order);
    this.#sorted = true;
    return order;
  }

  /** The table as plain arrays for another thread (this table is unusable after). */
  toTransfer(): { transfer: UserTableTransfer; buffers: ArrayBuffer[] } {
    const ids = this.ids.toTransfer();
    return { transfer: { ids, sorted: this.sorted }, buffers: internerBuffers(ids) };
  }

  static fromTransfer(t: UserTableTransfer): UserTable {
    const table = new UserTable(0);
    table.ids = ByteInterner.fromTransfer(t.ids);
    table.#sorted = t.sorted;
    return table;
  }

  /** Adds every id of `other` not known yet, in `other`'s order. */
  addAll(other: UserTable): void {
    const { bytes, starts, used } = other.ids.arena;
    const view = viewOf(bytes);
    const n = other.size;
    for (let p = 0; p < n; p++) this.addBytes(view, bytes, starts[p]!, p + 1 < n ? starts[p + 1]! : used);
  }
}

/** Genre names numbered in the order first seen. */
class GenreNumbers {
  readonly names: string[] = [];
  readonly #index = new Map<string, number>();

  /** The number of `name`, given the next one when new. */
  of(name: string): number {
    let g = this.#index.get(name);
    if (g === undefined) {
      g = this.names.length;
      this.names.push(name);
      this.#index.set(name, g);
    }
    return g;
  }
}

/**
 * Tracks by position: ids interned by their bytes, genre index, duration and the UTF-8 bytes of
 * name and artists. The columnar form of a catalog's songs (no object or string per track).
 */
export class TrackTable {
  ids: ByteInterner;
  genre: Int32Array = new Int32Array(16);
  duration: Float64Array = new Float64Array(16);
  /** Name of track `p`: `labels[labelAt[2p], labelAt[2p+1])`; artists: up to `labelAt[2p+2]`. */
  labels: Uint8Array = new Uint8Array(1024);
  labelAt: Uint32Array = new Uint32Array(33);
  /** 1 when track `p` has an `artists` value. */
  hasArtists: Uint8Array = new Uint8Array(16);
  /** Where each track's label is in {@link labelAt} / {@link hasArtists}, when not at its own position. */
  #labelOf: Int32Array | undefined;
  readonly #genres = new GenreNumbers();
  #labelsUsed = 0;
  #sorted = true;

  constructor(expected = 1024) {
    this.ids = new ByteInterner(expected, expected * 24);
  }

  get size(): number {
    return this.ids.size;
  }

  get sorted(): boolean {
    return this.#sorted || this.ids.size < 2;
  }

  /** Genre names by index, in the order first seen. */
  get genres(): readonly string[] {
    return this.#genres.names;
  }

  /** The index of a genre name, added when new. */
  genreIndex(name: string): number {
    return this.#genres.of(name);
  }

  /**
   * Adds a track unless its id (`bytes[start, end)`) is known; `false` when it is. Name and
   * artists are given by {@link label} calls right after (name first, then artists).
   */
  addBytes(
    view: DataView,
    bytes: Uint8Array,
    start: number,
    end: number,
    genre: number,
    durationMs: number,
  ): boolean {
    const before = this.ids.size;
    this.ids.internIn(view, bytes, start, end);
    if (this.ids.size === before) return false;
    const p = before;
    if (this.#labelOf !== undefined) this.#ownLabels(p);
    this.genre = grown(this.genre, p + 1);
    this.duration = grown(this.duration, p + 1);
    this.hasArtists = grown(this.hasArtists, p + 1);
    this.labelAt = grown(this.labelAt, 2 * p + 3);
    this.genre[p] = genre;
    this.duration[p] = durationMs;
    this.hasArtists[p] = 0;
    this.labelAt[2 * p] = this.#labelsUsed;
    this.labelAt[2 * p + 1] = this.#labelsUsed;
    this.labelAt[2 * p + 2] = this.#labelsUsed;
    this.#sorted = false;
    return true;
  }

  /**
   * Appends label bytes of the track added last: its name (`part` 0), then its artists (`part`
   * 1). With `quoted`, doubled quotes are written once (a quoted CSV field).
   */
  label(part: 0 | 1, bytes: Uint8Array, start: number, end: number, quoted = false): void {
    const p = this.size - 1;
    this.labels = grown(this.labels, this.#labelsUsed + (end - start));
    const out = this.labels;
    let at = this.#labelsUsed;
    for (let i = start; i < end; i++) {
      const b = bytes[i]!;
      out[at++] = b;
      if (quoted && b === 34) i++;
    }
    this.#labelsUsed = at;
    if (part === 0) this.labelAt[2 * p + 1] = at;
    else this.hasArtists[p] = 1;
    this.labelAt[2 * p + 2] = at;
  }

  /**
   * Takes columns built elsewhere for the tracks of {@link ids}, which are in byte order
   * (internal: {@link TrackRows.seal}).
   */
  adopt(
    genre: Int32Array,
    duration: Float64Array,
    hasArtists: Uint8Array,
    labels: Uint8Array,
    labelAt: Uint32Array,
    labelsUsed: number,
    labelOf?: Int32Array,
  ): void {
    this.#labelOf = labelOf;
    this.genre = genre;
    this.duration = duration;
    this.hasArtists = hasArtists;
    this.labels = labels;
    this.labelAt = labelAt;
    this.#labelsUsed = labelsUsed;
    this.#sorted = true;
  }

  /** Adds a track given as strings; `false` when its id is known. */
  addTrack(track: Track, scratch: Utf8Scratch): boolean {
    const id = scratch.encode(track.trackId);
    if (!this.addBytes(viewOf(id), id, 0, id.length, this.genreIndex(track.genre), track.durationMs))
      return false;
    const name = encoder.encode(track.name);
    this.label(0, name, 0, name.length);
    if (track.artists !== undefined) {
      const artists = encoder.encode(track.artists);
      this.label(1, artists, 0, artists.length);
    }
    return true;
  }

  id(p: number): string {
    return decoder.decode(this.ids.bytesOf(p));
  }

  /** Rewrites the labels of tracks `0..count-1` at their own positions (before a track is added). */
  #ownLabels(count: number): void {
    const labelAt = new Uint32Array(2 * count + 3);
    const hasArtists = new Uint8Array(count + 1);
    const labels = new Uint8Array(Math.max(16, this.#labelsUsed));
    let at = 0;
    for (let p = 0; p < count; p++) {
      const l = this.#slot(p);
      const from = this.labelAt[2 * l]!;
      const to = this.labelAt[2 * l + 2]!;
      labelAt[2 * p] = at;
      labelAt[2 * p + 1] = at + (this.labelAt[2 * l + 1]! - from);
      labels.set(this.labels.subarray(from, to), at);
      at += to - from;
      labelAt[2 * p + 2] = at;
      hasArtists[p] = this.hasArtists[l]!;
    }
    this.labels = labels;
    this.labelAt = labelAt;
    this.hasArtists = hasArtists;
    this.#labelsUsed = at;
    this.#labelOf = undefined;
  }

  /** Where track `p`'s label is in {@link labelAt} and {@link hasArtists} (for bulk reads). */
  labelSlot(p: number): number {
    return this.#labelOf === undefined ? p : this.#labelOf[p]!;
  }

  /** Where track `p`'s label is. */
  #slot(p: number): number {
    return this.#labelOf === undefined ? p : this.#labelOf[p]!;
  }

  /** The UTF-8 bytes of track `p`'s name (a view). */
  nameBytes(p: number): Uint8Array {
    const l = this.#slot(p);
    return this.labels.subarray(this.labelAt[2 * l]!, this.labelAt[2 * l + 1]!);
  }

  /** The UTF-8 bytes of track `p`'s artists (a view), or `undefined` when it has none. */
  artistsBytes(p: number): Uint8Array | undefined {
    const l = this.#slot(p);
    if (this.hasArtists[l] === 0) return undefined;
    return this.labels.subarray(this.labelAt[2 * l + 1]!, this.labelAt[2 * l + 2]!);
  }

  name(p: number): string {
    const l = this.#slot(p);
    return decoder.decode(this.labels.subarray(this.labelAt[2 * l]!, this.labelAt[2 * l + 1]!));
  }

  artists(p: number): string | undefined {
    const l = this.#slot(p);
    if (this.hasArtists[l] === 0) return undefined;
    return decoder.decode(this.labels.subarray(this.labelAt[2 * l + 1]!, this.labelAt[2 * l + 2]!));
  }

  /** Track `p` as an object. */
  track(p: number): Track {
    const artists = this.artists(p);
    return {
      trackId: this.id(p),
      name: this.name(p),
      genre: this.genres[this.genre[p]!]!,
      durationMs: this.duration[p]!,
      ...(artists === undefined ? {} : { artists }),
    };
  }

  /** The table as plain arrays for another thread (this table is unusable after). */
  toTransfer(): { transfer: TrackTableTransfer; buffers: ArrayBuffer[] } {
    const ids = this.ids.toTransfer();
    const transfer: TrackTableTransfer = {
      ids,
      genre: this.genre,
      duration: this.duration,
      labels: this.labels,
      labelAt: this.labelAt,
      hasArtists: this.hasArtists,
      labelOf: this.#labelOf,
      labelsUsed: this.#labelsUsed,
      genres: this.genres,
      sorted: this.sorted,
    };
    const arrays = [this.genre, this.duration, this.labels, this.labelAt, this.hasArtists, this.#labelOf];
    const buffers = new Set<ArrayBuffer>(internerBuffers(ids));
    for (const a of arrays) if (a !== undefined) buffers.add(a.buffer as ArrayBuffer);
    return { transfer, buffers: [...buffers] };
  }

  static fromTransfer(t: TrackTableTransfer): TrackTable {
    const table = new TrackTable(0);
    table.ids = ByteInterner.fromTransfer(t.ids);
    for (const genre of t.genres) table.genreIndex(genre);
    table.genre = t.genre;
    table.duration = t.duration;
    table.labels = t.labels;
    table.labelAt = t.labelAt;
    table.hasArtists = t.hasArtists;
    table.#labelOf = t.labelOf;
    table.#labelsUsed = t.labelsUsed;
    table.#sorted = t.sorted;
    return table;
  }

  /** Adds every track of `other` whose id is not known yet, in `other`'s order. */
  addAll(other: TrackTable): void {
    const { bytes, starts, used } = other.ids.arena;
    const view = viewOf(bytes);
    const n = other.size;
    for (let p = 0; p < n; p++) {
      const g = this.genreIndex(other.genres[other.genre[p]!]!);
      if (!this.addBytes(view, bytes, starts[p]!, p + 1 < n ? starts[p + 1]! : used, g, other.duration[p]!))
        continue;
      const l = other.#slot(p);
      this.label(0, other.labels, other.labelAt[2 * l]!, other.labelAt[2 * l + 1]!);
      if (other.hasArtists[l] === 1)
        this.label(1, other.labels, other.labelAt[2 * l + 1]!, other.labelAt[2 * l + 2]!);
    }
  }

  /** Renumbers positions in byte order of the ids (every column follows). */
  sortByBytes(): void {
    if (this.sorted) return;
    const order = byteOrder(this.ids);
    const n = order.length;
    this.ids.renumber(order);
    const genre = new Int32Array(n);
    const duration = new Float64Array(n);
    const hasArtists = new Uint8Array(n);
    const labels = new Uint8Array(Math.max(16, this.#labelsUsed));
    const labelAt = new Uint32Array(2 * n + 1);
    let at = 0;
    for (let i = 0; i < n; i++) {
      const p = order[i]!;
      genre[i] = this.genre[p]!;
      duration[i] = this.duration[p]!;
      const l = this.#slot(p);
      hasArtists[i] = this.hasArtists[l]!;
      const from = this.labelAt[2 * l]!;
      const mid = this.labelAt[2 * l + 1]!;
      const to = this.labelAt[2 * l + 2]!;
      labelAt[2 * i] = at;
      labels.set(this.labels.subarray(from, to), at);
      labelAt[2 * i + 1] = at + (mid - from);
      at += to - from;
      labelAt[2 * i + 2] = at;
    }
    this.genre = genre;
    this.duration = duration;
    this.hasArtists = hasArtists;
    this.labels = labels;
    this.labelAt = labelAt;
    this.#labelOf = undefined;
    this.#sorted = true;
  }
}

/** Whether `bytes[a, aEnd)` and `bytes[b, bEnd)` are the same bytes. */
function sameBytes(bytes: Uint8Array, a: number, aEnd: number, b: number, bEnd: number): boolean {
  if (aEnd - a !== bEnd - b) return false;
  for (let i = 0; i < aEnd - a; i++) if (bytes[a + i] !== bytes[b + i]) return false;
  return true;
}

/** Byte strings appended one after another (string `i` is `bytes[starts[i], starts[i + 1])`). */
class ByteList {
  bytes = new Uint8Array(1 << 16);
  starts = new Int32Array(1024);
  count = 0;
  used = 0;

  /** Room for `count` strings of `bytes` bytes in all (growing later copies what is held). */
  reserve(count: number, bytes: number): void {
    this.starts = grown(this.starts, count + 1);
    this.bytes = grown(this.bytes, bytes);
  }

  /** Appends `src[start, end)`; with `quoted`, doubled quotes are written once. */
  append(src: Uint8Array, start: number, end: number, quoted = false): void {
    this.starts = grown(this.starts, this.count + 2);
    this.bytes = grown(this.bytes, this.used + (end - start));
    const out = this.bytes;
    let at = this.used;
    if (quoted) {
      for (let i = start; i < end; i++) {
        const b = src[i]!;
        out[at++] = b;
        if (b === 34) i++;
      }
    } else {
      at = copyBytes(out, at, src, start, end);
    }
    this.starts[this.count++] = this.used;
    this.starts[this.count] = at;
    this.used = at;
  }

  /** String `i`, as a view. */
  at(i: number): Uint8Array {
    return this.bytes.subarray(this.starts[i]!, i + 1 < this.count ? this.starts[i + 1]! : this.used);
  }

  /**
   * The strings' order, ascending by bytes, each distinct string once: the first occurrence
   * (the sort is stable).
   */
  distinctOrder(): Int32Array {
    const { order, hi, lo } = sortWindows(this.bytes, this.starts, this.count, this.used);
    const { bytes, starts } = this;
    let kept = 0;
    let previous = -1;
    for (let r = 0; r < order.length; r++) {
      const id = order[r]!;
      // Neighbours with different words differ; only a tie reads the strings' bytes.
      if (
        previous !== -1 &&
        hi[r] === hi[r - 1] &&
        lo[r] === lo[r - 1] &&
        sameBytes(bytes, starts[previous]!, starts[previous + 1]!, starts[id]!, starts[id + 1]!)
      )
        continue;
      order[kept++] = id;
      previous = id;
    }
    return order.subarray(0, kept);
  }
}

/**
 * The user ids of a users file as read, row after row (no lookups while reading); sealed into
 * a {@link UserTable} sorted by bytes, the first occurrence of each id kept.
 */
export class UserRows {
  readonly #ids = new ByteList();

  /** Rows appended. */
  get count(): number {
    return this.#ids.count;
  }

  /** Room for `rows` rows, their ids `idBytes` bytes in all (see {@link reserveFor}). */
  reserve(rows: number, idBytes: number): void {
    this.#ids.reserve(rows, idBytes);
  }

  /** Bytes of the ids appended. */
  get idBytes(): number {
    return this.#ids.used;
  }

  append(bytes: Uint8Array, start: number, end: number, quoted = false): void {
    this.#ids.append(bytes, start, end, quoted);
  }

  /**
   * The distinct ids as a table in byte order, and how many rows repeated an earlier id. With
   * `indexed`, the lookup table is built now; otherwise on demand (see `ByteInterner.fromDistinct`).
   */
  seal(indexed = false): { table: UserTable; duplicates: number } {
    const ids = this.#ids;
    const order = ids.distinctOrder();
    const table = new UserTable(0);
    table.ids = ByteInterner.fromDistinct(ids.bytes, ids.starts, order, { lazy: true });
    if (indexed) table.ids.buildShared();
    return { table, duplicates: ids.count - order.length };
  }
}

/**
 * The songs of a songs file as read, row after row: id, genre, duration, name and artists bytes
 * (no lookups while reading); sealed into a {@link TrackTable} sorted by id bytes, the first
 * occurrence of each id kept.
 */
export class TrackRows {
  readonly #ids = new ByteList();
  /** Each row's name, then its artists: strings `2i` and `2i + 1`, the layout of a table's labels. */
  readonly #labels = new ByteList();
  #genre = new Int32Array(1024);
  #duration = new Float64Array(1024);
  #hasArtists = new Uint8Array(1024);
  readonly #genres = new GenreNumbers();

  get count(): number {
    return this.#ids.count;
  }

  /** Bytes of the ids, and of the names and artists, appended. */
  get idBytes(): number {
    return this.#ids.used;
  }
  get labelBytes(): number {
    return this.#labels.used;
  }

  /** Room for `rows` rows, their ids `idBytes` bytes and names and artists `labelBytes` in all (see {@link reserveFor}). */
  reserve(rows: number, idBytes: number, labelBytes: number): void {
    this.#ids.reserve(rows, idBytes);
    this.#labels.reserve(2 * rows, labelBytes);
    this.#genre = grown(this.#genre, rows);
    this.#duration = grown(this.#duration, rows);
    this.#hasArtists = grown(this.#hasArtists, rows);
  }

  /** Genre names by index, in the order first seen. */
  get genres(): readonly string[] {
    return this.#genres.names;
  }

  /** The index of a genre name, added when new. */
  genreIndex(name: string): number {
    return this.#genres.of(name);
  }

  /** Appends a song: the id's bytes (doubled quotes undone when `quoted`), its genre index and duration. */
  append(
    bytes: Uint8Array,
    start: number,
    end: number,
    quoted: boolean,
    genre: number,
    durationMs: number,
  ): void {
    const i = this.#ids.count;
    this.#ids.append(bytes, start, end, quoted);
    this.#genre = grown(this.#genre, i + 1);
    this.#duration = grown(this.#duration, i + 1);
    this.#hasArtists = grown(this.#hasArtists, i + 1);
    this.#genre[i] = genre;
    this.#duration[i] = durationMs;
  }

  /** The name of the song appended last. */
  name(bytes: Uint8Array, start: number, end: number, quoted: boolean): void {
    this.#labels.append(bytes, start, end, quoted);
  }

  /** The artists of the song appended last (`start` -1: the file has no artists column). */
  artists(bytes: Uint8Array, start: number, end: number, quoted: boolean): void {
    const i = this.#ids.count - 1;
    if (start < 0) {
      this.#labels.append(bytes, 0, 0);
      this.#hasArtists[i] = 0;
      return;
    }
    this.#labels.append(bytes, start, end, quoted);
    this.#hasArtists[i] = 1;
  }

  /** The distinct songs as a table in id byte order, and how many rows repeated an earlier id (see {@link UserRows.seal}). */
  seal(indexed = false): { table: TrackTable; duplicates: number } {
    const ids = this.#ids;
    const order = ids.distinctOrder();
    const n = order.length;
    const table = new TrackTable(0);
    // Genres in their canonical order: those the kept songs have, by name (code points).
    const used = new Uint8Array(this.genres.length);
    for (let r = 0; r < n; r++) used[this.#genre[order[r]!]!] = 1;
    const names = this.genres.filter((_, g) => used[g] === 1).sort(compareCodePoints);
    const renumber = new Int32Array(this.genres.length);
    for (const name of names) renumber[this.genreIndex(name)] = table.genreIndex(name);
    table.ids = ByteInterner.fromDistinct(ids.bytes, ids.starts, order, { lazy: true });
    if (indexed) table.ids.buildShared();
    // Genres and durations in rank order (the scan reads them by track number); labels stay
    // in file order, found through `order` (read only for the few tracks shown).
    const genre = new Int32Array(n);
    const duration = new Float64Array(n);
    for (let r = 0; r < n; r++) {
      genre[r] = renumber[this.#genre[order[r]!]!]!;
      duration[r] = this.#duration[order[r]!]!;
    }
    const rows = ids.count;
    // The labels were written in the table's layout as they were read: adopted without a copy
    // (the offsets are below 2^31, so the Int32 starts read the same as Uint32).
    const labels = this.#labels;
    if (labels.count !== 2 * rows) throw new Error("TrackRows: a row without its name and artists");
    const labelAt = new Uint32Array(labels.starts.buffer, labels.starts.byteOffset, 2 * rows + 1);
    const hasArtists = this.#hasArtists.subarray(0, rows);
    table.adopt(genre, duration, hasArtists, labels.bytes, labelAt, labels.used, order);
    return { table, duplicates: ids.count - order.length };
  }
}

/**
 * Sizes `rows` for a whole file of `fileBytes` bytes from what its first `readBytes` bytes
 * held, with a tenth to spare, so that a large file's tables are not grown (and copied) again
 * and again while it is read. Nothing when the file is about read already.
 */
export function reserveFor(rows: TrackRows | UserRows, readBytes: number, fileBytes: number): void {
  if (!Number.isFinite(fileBytes) || readBytes <= 0 || fileBytes < 2 * readBytes) return;
  const scale = (fileBytes / readBytes) * 1.1;
  // No more rows than lines of two bytes, no more bytes than the file has.
  const of = (n: number, most: number) => Math.min(Math.ceil(n * scale), most) + 16;
  const count = of(rows.count, fileBytes / 2);
  if (rows instanceof TrackRows)
    rows.reserve(count, of(rows.idBytes, fileBytes), of(rows.labelBytes, fileBytes));
  else rows.reserve(count, of(rows.idBytes, fileBytes));
}
