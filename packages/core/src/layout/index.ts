import { ConfigurationError } from "../errors/index.js";

/** Where each kind of object lives in the store. Every prefix ends with `/`. */
export interface KeyLayout {
  /** @default "data/raw/streams/" */
  readonly streams: string;
  /** @default "data/raw/songs/" */
  readonly songs: string;
  /** @default "data/raw/users/" */
  readonly users: string;
  /** Rejected files go to `<error><timestamp>_<name>`. @default "data/error/" */
  readonly error: string;
  /** Processed files go to `<archive>YYYY/MM/DD/<timestamp>_<name>`. @default "data/archive/" */
  readonly archive: string;
  /** KPI JSON Lines go to `<kpis>YYYY/MM/DD/`. @default "data/kpis/" */
  readonly kpis: string;
  /**
   * The pipeline's own state in its state object store: compiled catalogs
   * (`<state>catalogs/`) and day states (`<state>days/`). @default "data/state/"
   */
  readonly state: string;
}

/** The seed system's layout. */
export const DEFAULT_LAYOUT: KeyLayout = {
  streams: "data/raw/streams/",
  songs: "data/raw/songs/",
  users: "data/raw/users/",
  error: "data/error/",
  archive: "data/archive/",
  kpis: "data/kpis/",
  state: "data/state/",
};

/**
 * A layout from the defaults and your overrides. Prefixes get a trailing `/` when they lack
 * one; an empty prefix or one starting with `/` is a {@link ConfigurationError}.
 */
export function defineLayout(overrides: Partial<KeyLayout> = {}): KeyLayout {
  const out: Record<string, string> = {};
  for (const [name, fallback] of Object.entries(DEFAULT_LAYOUT)) {
    const value = (overrides as Record<string, string | undefined>)[name] ?? fallback;
    if (value === "" || value.startsWith("/"))
      throw new ConfigurationError(`layout prefix '${name}' must be a relative key prefix, got '${value}'`);
    out[name] = value.endsWith("/") ? value : `${value}/`;
  }
  return out as unknown as KeyLayout;
}

const INPUT_SUFFIX = /\.csv(\.gz)?$/i;

/** `true` for a `.csv` or `.csv.gz` key directly or deeper under `prefix`. */
export function isInputKey(key: string, prefix: string): boolean {
  return key.startsWith(prefix) && key.length > prefix.length && INPUT_SUFFIX.test(key);
}

/** The last segment of a key. */
export function baseName(key: string): string {
  return key.slice(key.lastIndexOf("/") + 1);
}

/** `2025-06-22T10:15:30.123Z` -> `20250622T101530123Z`: sortable, unique to the millisecond. */
export function timestampTag(at: Date): string {
  return at.toISOString().replace(/[-:.]/g, "");
}

/** `YYYY/MM/DD` of a UTC date. */
function datePath(at: Date): string {
  return at.toISOString().slice(0, 10).replaceAll("-", "/");
}

/** Where a processed file is archived: `<archive>YYYY/MM/DD/<timestamp>_<name>`, processing time in UTC. */
export function archiveKey(layout: KeyLayout, key: string, at: Date): string {
  return `${layout.archive}${datePath(at)}/${timestampTag(at)}_${baseName(key)}`;
}

/** Where a rejected file is moved: `<error><timestamp>_<name>`. */
export function errorKey(layout: KeyLayout, key: string, at: Date): string {
  return `${layout.error}${timestampTag(at)}_${baseName(key)}`;
}

/** The folder of the stored states of one listener shard of a date: `<state>days/YYYY-MM-DD/<shard>/`. */
export function dayStatePrefix(layout: KeyLayout, listenDate: string, shard: number): string {
  return `${layout.state}days/${listenDate}/${shard}/`;
}

/** The three JSON Lines objects of a listen date's KPIs. */
export function kpiObjectKeys(
  layout: KeyLayout,
  listenDate: string,
): { genreStats: string; topSongs: string; topGenres: string } {
  const dir = `${layout.kpis}${listenDate.replaceAll("-", "/")}/`;
  return {
    genreStats: `${dir}genre_stats.jsonl`,
    topSongs: `${dir}top_songs.jsonl`,
    topGenres: `${dir}top_genres.jsonl`,
  };
}
