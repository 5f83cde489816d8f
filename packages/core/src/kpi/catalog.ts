import type { z } from "zod";
import { type CatalogScan, scanCatalogFast } from "../fast/catalog-scan.js";
import { FastPathUnsupported } from "../fast/scan.js";
import { type SongRow, songsSchema, type TableSchema, type UserRow, usersSchema } from "../schema/index.js";
import { type FileReport, type ScanOptions, scanTable } from "../validate/index.js";
import { Catalog, type InputFile } from "./catalog-model.js";
import { compareCodePoints } from "./order.js";

export { Catalog, catalogTables, type InputFile } from "./catalog-model.js";

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
      return await scanCatalogFast(await file.open(), file.name, kind, options, false, file.size);
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
