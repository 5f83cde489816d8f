import { type Catalog, catalogTables } from "../kpi/catalog-model.js";
import { compareCodePoints } from "../kpi/order.js";
import type { TrackTable } from "./catalog-tables.js";
import { ByteInterner, type SharedInterner } from "./interner.js";

/** What a worker thread needs of a {@link CatalogIndex} to scan rows: see {@link CatalogIndex.toShared}. */
export interface SharedCatalogIndex {
  readonly tracks: SharedInterner;
  readonly users: SharedInterner;
  readonly trackGenre: Int32Array;
  readonly trackDuration: Float64Array;
  readonly genres: readonly string[];
}

const decoder = new TextDecoder();

/**
 * A {@link Catalog} for the fast row source, every id a dense integer: track `t` is the
 * catalog's `t`-th track id in byte (code point) order, user `u` likewise, genre `g` the
 * `g`-th genre name in code point order. Comparing two track numbers is comparing their ids.
 * Tracks and users are looked up by the bytes of a row's field. Building one sorts the
 * catalog's tables in place and freezes the catalog.
 */
export class CatalogIndex {
  readonly tracks: ByteInterner;
  readonly users: ByteInterner;
  /** Genre of each track. */
  readonly trackGenre: Int32Array;
  /** `duration_ms` of each track. */
  readonly trackDuration: Float64Array;
  /** Genre names, in code point order. */
  readonly genres: string[];
  readonly #tracks: TrackTable | undefined;
  /** The catalog this index is over (not in a worker thread's index). */
  readonly catalog: Catalog;

  constructor(catalog: Catalog) {
    this.catalog = catalog;
    catalog.freeze();
    const tables = catalogTables.get(catalog)!;
    tables.tracks.sortByBytes();
    tables.users.sortByBytes();
    this.#tracks = tables.tracks;
    this.tracks = tables.tracks.ids;
    this.users = tables.users.ids;
    const n = tables.tracks.size;
    // Only genres some track has, renumbered in name order (a sealed table has them so already).
    const genres = tables.tracks.genres;
    const used = new Uint8Array(genres.length);
    for (let t = 0; t < n; t++) used[tables.tracks.genre[t]!] = 1;
    const names = genres.filter((_, g) => used[g] === 1).sort(compareCodePoints);
    const position = new Map(names.map((name, i) => [name, i]));
    const renumber = new Int32Array(genres.length);
    genres.forEach((name, g) => {
      renumber[g] = position.get(name) ?? -1;
    });
    this.genres = names;
    const identity = names.length === genres.length && renumber.every((to, g) => to === g);
    if (identity) this.trackGenre = tables.tracks.genre.subarray(0, n);
    else {
      this.trackGenre = new Int32Array(n);
      for (let t = 0; t < n; t++) this.trackGenre[t] = renumber[tables.tracks.genre[t]!]!;
    }
    this.trackDuration = tables.tracks.duration.subarray(0, n);
  }

  /** The parts a worker needs to scan rows, in shared memory (names and durations stay here). */
  toShared(): SharedCatalogIndex {
    const trackGenre = new Int32Array(new SharedArrayBuffer(this.trackGenre.byteLength));
    trackGenre.set(this.trackGenre);
    const trackDuration = new Float64Array(new SharedArrayBuffer(this.trackDuration.byteLength));
    trackDuration.set(this.trackDuration);
    return {
      tracks: this.tracks.toShared(),
      users: this.users.toShared(),
      trackGenre,
      trackDuration,
      genres: this.genres,
    };
  }

  /**
   * A scanning index in a worker thread: lookups, genres and durations work; ids and names are
   * not there, so its partials are finalised where the full index is.
   */
  static fromShared(shared: SharedCatalogIndex): CatalogIndex {
    const index = Object.create(CatalogIndex.prototype) as {
      -readonly [K in keyof CatalogIndex]: CatalogIndex[K];
    };
    Object.assign(index, {
      tracks: ByteInterner.fromShared(shared.tracks),
      users: ByteInterner.fromShared(shared.users),
      trackGenre: shared.trackGenre,
      trackDuration: shared.trackDuration,
      genres: shared.genres,
    });
    return index as CatalogIndex;
  }

  get trackCount(): number {
    return this.tracks.size;
  }

  get userCount(): number {
    return this.users.size;
  }

  /** The id of track `t`. */
  trackId(t: number): string {
    return decoder.decode(this.tracks.bytesOf(t));
  }

  /** The name of track `t` (not in a worker thread's index). */
  trackName(t: number): string {
    return this.#tracks!.name(t);
  }

  /** The columnar tracks behind this index (names and artists as bytes); internal to the package. */
  get trackTable(): TrackTable {
    return this.#tracks!;
  }

  /** The artists of track `t`, when the songs file had that column. */
  trackArtists(t: number): string | undefined {
    return this.#tracks!.artists(t);
  }

  /** The id of user `u`. */
  userId(u: number): string {
    return decoder.decode(this.users.bytesOf(u));
  }
}

const indexes = new WeakMap<Catalog, CatalogIndex>();

/** The catalog's index for the fast row source, built once per catalog (internal to the package). */
export function indexOf(catalog: Catalog): CatalogIndex {
  let index = indexes.get(catalog);
  if (index === undefined) {
    index = new CatalogIndex(catalog);
    indexes.set(catalog, index);
  }
  return index;
}
