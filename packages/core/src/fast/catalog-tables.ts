import type { Track } from "../kpi/types.js";
import { byteOrder } from "./byte-order.js";
import { ByteInterner, viewOf } from "./interner.js";

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

  /** Adds every id of `other` not known yet, in `other`'s order. */
  addAll(other: UserTable): void {
    const { bytes, starts, used } = other.ids.arena;
    const view = viewOf(bytes);
    const n = other.size;
    for (let p = 0; p < n; p++) this.addBytes(view, bytes, starts[p]!, p + 1 < n ? starts[p + 1]! : used);
  }
}

/**
 * Tracks by position: ids interned by their bytes, genre index, duration and the UTF-8 bytes of
 * name and artists. The columnar form of a catalog's songs (no object or string per track).
 */
export class TrackTable {
  ids: ByteInterner;
  genre = new Int32Array(16);
  duration = new Float64Array(16);
  /** Name of track `p`: `labels[labelAt[2p], labelAt[2p+1])`; artists: up to `labelAt[2p+2]`. */
  labels = new Uint8Array(1024);
  labelAt = new Uint32Array(33);
  /** 1 when track `p` has an `artists` value. */
  hasArtists = new Uint8Array(16);
  readonly genres: string[] = [];
  readonly #genreIndex = new Map<string, number>();
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

  /** The index of a genre name, added when new. */
  genreIndex(name: string): number {
    let g = this.#genreIndex.get(name);
    if (g === undefined) {
      g = this.genres.length;
      this.genres.push(name);
      this.#genreIndex.set(name, g);
    }
    return g;
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

  name(p: number): string {
    return decoder.decode(this.labels.subarray(this.labelAt[2 * p]!, this.labelAt[2 * p + 1]!));
  }

  artists(p: number): string | undefined {
    if (this.hasArtists[p] === 0) return undefined;
    return decoder.decode(this.labels.subarray(this.labelAt[2 * p + 1]!, this.labelAt[2 * p + 2]!));
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

  /** Adds every track of `other` whose id is not known yet, in `other`'s order. */
  addAll(other: TrackTable): void {
    const { bytes, starts, used } = other.ids.arena;
    const view = viewOf(bytes);
    const n = other.size;
    for (let p = 0; p < n; p++) {
      const g = this.genreIndex(other.genres[other.genre[p]!]!);
      if (!this.addBytes(view, bytes, starts[p]!, p + 1 < n ? starts[p + 1]! : used, g, other.duration[p]!))
        continue;
      this.label(0, other.labels, other.labelAt[2 * p]!, other.labelAt[2 * p + 1]!);
      if (other.hasArtists[p] === 1)
        this.label(1, other.labels, other.labelAt[2 * p + 1]!, other.labelAt[2 * p + 2]!);
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
      hasArtists[i] = this.hasArtists[p]!;
      const from = this.labelAt[2 * p]!;
      const mid = this.labelAt[2 * p + 1]!;
      const to = this.labelAt[2 * p + 2]!;
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
    this.#sorted = true;
  }
}
