// The catalog itself, without the readers (zod, the CSV parser): the fast readers' worker
// threads use it.
import type { ByteSource } from "../csv/bytes.js";
import { ConfigurationError } from "../errors/index.js";
import { TrackTable, UserTable, Utf8Scratch } from "../fast/catalog-tables.js";
import { viewOf } from "../fast/interner.js";
import type { Track } from "./types.js";

/** A named file whose bytes can be read (once or more). */
export interface InputFile {
  /** The object key or path; used in reports, and to order catalog files. */
  readonly name: string;
  /** Opens the file's bytes. Called once per read. */
  open(): ByteSource | Promise<ByteSource>;
  /** The file's size in bytes, when known (lets a large plain file be read in byte ranges). */
  readonly size?: number | undefined;
  /** Opens the file's bytes from byte `start` to the end (with {@link size}, for byte ranges). */
  openFrom?(start: number): ByteSource | Promise<ByteSource>;
}

/** The columnar tables behind a {@link Catalog} (internal to the package). */
export const catalogTables = new WeakMap<
  Catalog,
  { readonly tracks: TrackTable; readonly users: UserTable }
>();

/**
 * The song and user catalogs that stream rows are joined with. The first occurrence of a
 * `track_id` or `user_id` wins; rows of rejected files are not in it.
 *
 * Stored in columns (ids interned by their UTF-8 bytes, no object or string per entry), so a
 * catalog of millions of users costs a few dozen bytes a user. `tracks()` and `users()` give
 * the entries in id order (by code point). Once a `CatalogIndex` was built over the catalog,
 * it can no longer change.
 */
export class Catalog {
  #tracks = new TrackTable();
  #users = new UserTable();
  readonly #scratch = new Utf8Scratch();
  #frozen = false;

  constructor() {
    catalogTables.set(this, { tracks: this.#tracks, users: this.#users });
  }

  #mutable(): void {
    if (this.#frozen)
      throw new ConfigurationError("a Catalog cannot change once a CatalogIndex was built over it");
  }

  /** Adds a track unless its id is already known. Returns `true` when added. */
  addTrack(track: Track): boolean {
    this.#mutable();
    return this.#tracks.addTrack(track, this.#scratch);
  }

  /** Adds a user id unless already known. Returns `true` when added. */
  addUser(userId: string): boolean {
    this.#mutable();
    const bytes = this.#scratch.encode(userId);
    return this.#users.addBytes(viewOf(bytes), bytes, 0, bytes.length);
  }

  /** Adds everything of `other` that this catalog does not know yet (this one's entries win). */
  merge(other: Catalog): this {
    this.#mutable();
    const theirs = catalogTables.get(other)!;
    this.#tracks.addAll(theirs.tracks);
    this.#users.addAll(theirs.users);
    return this;
  }

  /**
   * Takes over the tables of a file read on its own when this catalog has none of that kind
   * yet (no copy), or adds their entries (internal to the package).
   */
  absorb(tables: { readonly tracks?: TrackTable; readonly users?: UserTable }): void {
    this.#mutable();
    if (tables.tracks !== undefined) {
      if (this.#tracks.size === 0) this.#tracks = tables.tracks;
      else this.#tracks.addAll(tables.tracks);
    }
    if (tables.users !== undefined) {
      if (this.#users.size === 0) this.#users = tables.users;
      else this.#users.addAll(tables.users);
    }
    catalogTables.set(this, { tracks: this.#tracks, users: this.#users });
  }

  /** Freezes the catalog (a `CatalogIndex` is built over it); internal to the package. */
  freeze(): void {
    this.#frozen = true;
  }

  /** Every track, in id order (by code point). */
  *tracks(): IterableIterator<Track> {
    const table = this.#tracks;
    table.sortByBytes();
    for (let p = 0; p < table.size; p++) yield table.track(p);
  }

  /** Every user id, in id order (by code point). */
  *users(): IterableIterator<string> {
    const table = this.#users;
    table.sortByBytes();
    for (let p = 0; p < table.size; p++) yield table.id(p);
  }

  /** The track with id `trackId`, or `undefined` when the songs catalog does not have it. */
  track(trackId: string): Track | undefined {
    const bytes = this.#scratch.encode(trackId);
    const p = this.#tracks.ids.find(bytes, 0, bytes.length);
    return p === -1 ? undefined : this.#tracks.track(p);
  }

  /** Whether the users catalog has a user with id `userId`. */
  hasUser(userId: string): boolean {
    const bytes = this.#scratch.encode(userId);
    return this.#users.ids.find(bytes, 0, bytes.length) !== -1;
  }

  get trackCount(): number {
    return this.#tracks.size;
  }

  get userCount(): number {
    return this.#users.size;
  }
}
