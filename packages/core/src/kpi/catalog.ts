import type { z } from "zod";
import type { ByteSource } from "../csv/index.js";
import { prebuiltIds } from "../fast/catalog-ids.js";
import { scanCatalogFast } from "../fast/catalog-scan.js";
import type { ByteInterner } from "../fast/interner.js";
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
}

/**
 * The song and user catalogs that stream rows are joined with. The first occurrence of a
 * `track_id` or `user_id` wins; rows of rejected files are not in it.
 */
export class Catalog {
  readonly #tracks = new Map<string, Track>();
  readonly #users = new Set<string>();

  /** Adds a track unless its id is already known. Returns `true` when added. */
  addTrack(track: Track): boolean {
    if (this.#tracks.has(track.trackId)) return false;
    this.#tracks.set(track.trackId, track);
    return true;
  }

  /** Adds a user id unless already known. Returns `true` when added. */
  addUser(userId: string): boolean {
    if (this.#users.has(userId)) return false;
    this.#users.add(userId);
    return true;
  }

  /** Adds everything of `other` that this catalog does not know yet (this one's entries win). */
  merge(other: Catalog): this {
    for (const track of other.#tracks.values()) this.addTrack(track);
    for (const user of other.#users) this.addUser(user);
    return this;
  }

  /** Every track, in the order added. */
  tracks(): IterableIterator<Track> {
    return this.#tracks.values();
  }

  /** Every user id, in the order added. */
  users(): IterableIterator<string> {
    return this.#users.values();
  }

  track(trackId: string): Track | undefined {
    return this.#tracks.get(trackId);
  }

  hasUser(userId: string): boolean {
    return this.#users.has(userId);
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
export async function loadCatalog(
  input: { readonly songs: Iterable<InputFile>; readonly users: Iterable<InputFile> },
  options: ScanOptions & {
    readonly schemas?: CatalogSchemas | undefined;
    readonly fastPath?: boolean | undefined;
  } = {},
): Promise<{ catalog: Catalog; reports: FileReport[] }> {
  const catalog = new Catalog();
  const reports: FileReport[] = [];
  // The interned ids of the one file that made a whole list (tracks or users), if it did.
  const interned: { tracks?: ByteInterner; users?: ByteInterner } = {};
  const songs = (options.schemas?.songs ?? songsSchema) as TableSchema<typeof songsSchema.row>;
  const users = (options.schemas?.users ?? usersSchema) as TableSchema<typeof usersSchema.row>;
  // The byte-level reader, where the built-in schema applies; the general reader otherwise.
  const fast = async (file: InputFile, kind: "songs" | "users"): Promise<FileReport | undefined> => {
    if (options.fastPath === false || options.schemas?.[kind] !== undefined) return undefined;
    try {
      const scan = await scanCatalogFast(await file.open(), file.name, kind, options);
      if (scan.report.accepted) {
        const list = kind === "songs" ? "tracks" : "users";
        const before = list === "tracks" ? catalog.trackCount : catalog.userCount;
        for (const track of scan.tracks) catalog.addTrack(track);
        for (const user of scan.users) catalog.addUser(user);
        if (before === 0) interned[list] = scan.ids;
        else delete interned[list];
      }
      return scan.report;
    } catch (err) {
      if (err instanceof FastPathUnsupported) return undefined;
      throw err;
    }
  };
  for (const file of byKey(input.songs)) {
    const quick = await fast(file, "songs");
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
    if (report.accepted && local.trackCount > 0) {
      catalog.merge(local);
      delete interned.tracks;
    }
  }
  for (const file of byKey(input.users)) {
    const quick = await fast(file, "users");
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
    if (report.accepted && local.userCount > 0) {
      catalog.merge(local);
      delete interned.users;
    }
  }
  // Valid only while the catalog holds exactly those ids: CatalogIndex checks the counts.
  if (interned.tracks !== undefined && interned.tracks.size !== catalog.trackCount) delete interned.tracks;
  if (interned.users !== undefined && interned.users.size !== catalog.userCount) delete interned.users;
  prebuiltIds.set(catalog, interned);
  return { catalog, reports };
}
