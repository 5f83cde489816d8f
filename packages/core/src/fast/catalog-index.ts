import type { Catalog } from "../kpi/catalog.js";
import { compareCodePoints } from "../kpi/order.js";
import { prebuiltIds } from "./catalog-ids.js";
import { ByteInterner, type SharedInterner } from "./interner.js";

/** What a worker thread needs of a {@link CatalogIndex} to scan rows: see {@link CatalogIndex.toShared}. */
export interface SharedCatalogIndex {
  readonly tracks: SharedInterner;
  readonly users: SharedInterner;
  readonly trackGenre: Int32Array;
  readonly genreCount: number;
}

const encoder = new TextEncoder();

/**
 * A {@link Catalog} with every id interned to a dense integer, for the fast row source: tracks
 * and users are looked up by the bytes of a row's field, genres are indexes.
 */
export class CatalogIndex {
  readonly tracks: ByteInterner;
  readonly users: ByteInterner;
  readonly trackIds: string[] = [];
  readonly trackNames: string[] = [];
  readonly trackArtists: (string | undefined)[] = [];
  readonly trackGenre: Int32Array;
  readonly trackDuration: Float64Array;
  readonly userIds: string[] = [];
  readonly genres: string[] = [];
  /** Genre indexes sorted by genre name (code point order). */
  readonly genreOrder: Int32Array;

  /** The parts a worker needs to scan rows, in shared memory (ids, names and durations stay here). */
  toShared(): SharedCatalogIndex {
    const trackGenre = new Int32Array(new SharedArrayBuffer(this.trackGenre.byteLength));
    trackGenre.set(this.trackGenre);
    return {
      tracks: this.tracks.toShared(),
      users: this.users.toShared(),
      trackGenre,
      genreCount: this.genres.length,
    };
  }

  /**
   * A scanning-only index in a worker thread: lookups and genres work; names, ids and
   * durations are not there, so its partials are finalised where the full index is.
   */
  static fromShared(shared: SharedCatalogIndex): CatalogIndex {
    const index = Object.create(CatalogIndex.prototype) as {
      -readonly [K in keyof CatalogIndex]: CatalogIndex[K];
    };
    Object.assign(index, {
      tracks: ByteInterner.fromShared(shared.tracks),
      users: ByteInterner.fromShared(shared.users),
      trackIds: new Array(shared.tracks.size),
      trackNames: [],
      trackArtists: [],
      trackGenre: shared.trackGenre,
      trackDuration: new Float64Array(0),
      userIds: new Array(shared.users.size),
      genres: new Array(shared.genreCount),
      genreOrder: new Int32Array(0),
    });
    return index as CatalogIndex;
  }

  constructor(catalog: Catalog) {
    const genreIndex = new Map<string, number>();
    this.trackGenre = new Int32Array(catalog.trackCount);
    this.trackDuration = new Float64Array(catalog.trackCount);
    // Ids are encoded into one scratch buffer (a UTF-8 id takes at most 3 bytes a UTF-16 unit).
    let scratch = new Uint8Array(256);
    const bytesOf = (id: string): Uint8Array => {
      if (id.length * 3 > scratch.length) scratch = new Uint8Array(id.length * 3);
      return scratch.subarray(0, encoder.encodeInto(id, scratch).written);
    };
    // Ids the catalog reader already interned, in catalog order, are taken as they are.
    const prebuilt = prebuiltIds.get(catalog);
    const tracks = prebuilt?.tracks?.size === catalog.trackCount ? prebuilt.tracks : undefined;
    const users = prebuilt?.users?.size === catalog.userCount ? prebuilt.users : undefined;
    this.tracks = tracks ?? new ByteInterner(catalog.trackCount, catalog.trackCount * 24);
    this.users = users ?? new ByteInterner(catalog.userCount, catalog.userCount * 12);
    let position = 0;
    for (const track of catalog.tracks()) {
      const id = tracks !== undefined ? position++ : this.tracks.intern(bytesOf(track.trackId));
      this.trackIds[id] = track.trackId;
      this.trackNames[id] = track.name;
      this.trackArtists[id] = track.artists;
      let g = genreIndex.get(track.genre);
      if (g === undefined) {
        g = this.genres.length;
        genreIndex.set(track.genre, g);
        this.genres.push(track.genre);
      }
      this.trackGenre[id] = g;
      this.trackDuration[id] = track.durationMs;
    }
    let userPosition = 0;
    for (const user of catalog.users())
      this.userIds[users !== undefined ? userPosition++ : this.users.intern(bytesOf(user))] = user;
    this.genreOrder = Int32Array.from(
      this.genres.map((_, i) => i).sort((a, b) => compareCodePoints(this.genres[a]!, this.genres[b]!)),
    );
  }

  get trackCount(): number {
    return this.trackIds.length;
  }

  get userCount(): number {
    return this.userIds.length;
  }
}
