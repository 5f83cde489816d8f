import type { z } from "zod";
import type { ByteSource } from "../csv/index.js";
import { ConfigurationError } from "../errors/index.js";
import { type CatalogScan, scanCatalogFast } from "../fast/catalog-scan.js";
import { TrackTable, UserTable, Utf8Scratch } from "../fast/catalog-tables.js";
import { viewOf } from "../fast/interner.js";
import { FastPathUnsupported } from "../fast/scan.js";
import { type SongRow, songsSchema, type TableSchema, type UserRow, usersSchema } from "../schema/index.js";
import { type FileReport, type ScanOptions, scanTable } from "../validate/index.js";
import { compareCodePoints } from "./order.js";
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

  track(trackId: string): Track | undefined {
    const bytes = this.#scratch.encode(trackId);
    const p = this.#tracks.ids.find(bytes, 0, bytes.length);
    return p === -1 ? undefined : this.#tracks.track(p);
  }

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

/** Schemas used when reading catalog files. */
export interface CatalogSchemas {
  readonly songs?: TableSchema<z.ZodObject> | undefined;
  readonly users?: TableSchema<z.ZodObject> | undefined;
}

/** Orders files by name, by code point: "key order". */
export function byKey<T extends { readonly name: string }>(files: Iterable<T>): T[] {
  return [...files].sort((a, b) => compareCodePoints(a.name, b.name));
}

/**
 * Reads songs and users files (each list in key order) into a {@link Catalog}. A rejected
 * file contributes nothing; within a file, a `track_id` or `user_id` seen before counts as a
 * duplicate row, not a bad one.
 */
export function loadCatalog(
  input: { readonly songs: Iterable<InputFile>; readonly users: Iterable<InputFile> },
  options: ScanOptions & {
    readonly schemas?: CatalogSchemas | undefined;
    readonly fastPath?: boolean | undefined;
  } = {},
): Promise<{ catalog: Catalog; reports: FileReport[] }> {
  return loadCatalogWith(input, options, async (file, kind) => {
    try {
      return await scanCatalogFast(await file.open(), file.name, kind, options);
    } catch (err) {
      if (err instanceof FastPathUnsupported) return undefined;
      throw err;
    }
  });
}

/**
 * {@link loadCatalog} with the byte-level reads done by `read` (`undefined`: the general
 * reader must read the file). Every read is started at once, then taken in key order, so a
 * reader running on other threads reads the files in parallel. Internal to the package.
 */
export async function loadCatalogWith(
  input: { readonly songs: Iterable<InputFile>; readonly users: Iterable<InputFile> },
  options: ScanOptions & {
    readonly schemas?: CatalogSchemas | undefined;
    readonly fastPath?: boolean | undefined;
  },
  read: (file: InputFile, kind: "songs" | "users") => Promise<CatalogScan | undefined>,
): Promise<{ catalog: Catalog; reports: FileReport[] }> {
  const catalog = new Catalog();
  const reports: FileReport[] = [];
  const songs = (options.schemas?.songs ?? songsSchema) as TableSchema<typeof songsSchema.row>;
  const users = (options.schemas?.users ?? usersSchema) as TableSchema<typeof usersSchema.row>;
  // The byte-level reader, where the built-in schema applies; the general reader otherwise.
  const start = (file: InputFile, kind: "songs" | "users") => {
    if (options.fastPath === false || options.schemas?.[kind] !== undefined) return undefined;
    const reading = read(file, kind);
    // Awaited in key order below; marked handled so an earlier failure leaves none unobserved.
    reading.catch(() => {});
    return reading;
  };
  const songFiles = byKey(input.songs).map((file) => ({ file, fast: start(file, "songs") }));
  const userFiles = byKey(input.users).map((file) => ({ file, fast: start(file, "users") }));
  const fast = async (reading: Promise<CatalogScan | undefined> | undefined) => {
    const scan = await reading;
    if (scan?.report.accepted) catalog.absorb(scan);
    return scan?.report;
  };
  for (const { file, fast: reading } of songFiles) {
    const quick = await fast(reading);
    if (quick !== undefined) {
      reports.push(quick);
      continue;
    }
    const local = new Catalog();
    const report = await scanTable(
      await file.open(),
      file.name,
      songs,
      (row: SongRow) =>
        local.addTrack({
          trackId: row.track_id,
          name: row.track_name,
          genre: row.track_genre,
          durationMs: row.duration_ms,
          artists: row.artists,
        })
          ? undefined
          : "duplicate",
      options,
    );
    reports.push(report);
    if (report.accepted && local.trackCount > 0) catalog.merge(local);
  }
  for (const { file, fast: reading } of userFiles) {
    const quick = await fast(reading);
    if (quick !== undefined) {
      reports.push(quick);
      continue;
    }
    const local = new Catalog();
    const report = await scanTable(
      await file.open(),
      file.name,
      users,
      (row: UserRow) => (local.addUser(row.user_id) ? undefined : "duplicate"),
      options,
    );
    reports.push(report);
    if (report.accepted && local.userCount > 0) catalog.merge(local);
  }
  return { catalog, reports };
}
