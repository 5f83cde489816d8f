import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import { ConfigurationError } from "../errors/index.js";

/** Where each kind of object lives in the store. Every prefix ends with `/`. */
export interface KeyLayout {
  /** @default "data/raw/streams/" */
  readonly streams: string;
  /** @default "data/raw/songs/" */
  readonly songs: string;
  /** @default "data/raw/users/" */
  readonly users: string;
  /** Rejected files go to `<error><timestamp>_<tag>_<name>`. @default "data/error/" */
  readonly error: string;
  /** Processed files go to `<archive>YYYY/MM/DD/<timestamp>_<tag>_<name>`. @default "data/archive/" */
  readonly archive: string;
  /** KPI JSON Lines go to `<kpis>YYYY/MM/DD/`. @default "data/kpis/" */
  readonly kpis: string;
  /**
   * The pipeline's own state in its state object store: compiled catalogs
   * (`<state>catalogs/`) and day states (`<state>days/`). @default "data/state/"
   */
  readonly state: string;
}

/** The default layout: the original Python pipeline's, everything under `data/`. */
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

/** The longest name a moved file gets: 255 bytes, what most file systems allow in a folder entry. */
export const MAX_MOVED_NAME_BYTES = 255;

/**
 * A short tag of one delivery, the same for every run that computes it: 12 hex digits of the
 * SHA-256 of the input key and the delivery's etag. Two deliveries moved in the same
 * millisecond (same base name in two folders, or a key delivered twice) get different tags.
 */
export function deliveryTag(key: string, etag: string): string {
  return createHash("sha256").update(key).update("\u0000").update(etag).digest("hex").slice(0, 12);
}

/**
 * `<timestamp>_<tag>_<name>`, the name shortened (deterministically, keeping the `.csv` /
 * `.csv.gz` ending, on a character boundary) to fit {@link MAX_MOVED_NAME_BYTES}; the tag
 * keeps shortened names apart, the file's record keeps its original key.
 */
function movedName(key: string, at: Date, etag: string): string {
  const head = `${timestampTag(at)}_${deliveryTag(key, etag)}_`;
  const name = baseName(key);
  const room = MAX_MOVED_NAME_BYTES - head.length;
  if (Buffer.byteLength(name) <= room) return head + name;
  const ending = /\.csv(\.gz)?$/i.exec(name)?.[0] ?? "";
  return head + utf8Prefix(name.slice(0, name.length - ending.length), room - ending.length) + ending;
}

/** The longest prefix of `text` of at most `bytes` UTF-8 bytes that ends on a character boundary. */
function utf8Prefix(text: string, bytes: number): string {
  let used = 0;
  let end = 0;
  for (const char of text) {
    const size = Buffer.byteLength(char);
    if (used + size > bytes) break;
    used += size;
    end += char.length;
  }
  return text.slice(0, end);
}

/**
 * Where a processed file is archived: `<archive>YYYY/MM/DD/<timestamp>_<tag>_<name>`,
 * processing time in UTC, the tag naming the delivery (see {@link deliveryTag}).
 */
export function archiveKey(layout: KeyLayout, key: string, at: Date, etag: string): string {
  return `${layout.archive}${datePath(at)}/${movedName(key, at, etag)}`;
}

/** Where a rejected file is moved: `<error><timestamp>_<tag>_<name>` (see {@link archiveKey}). */
export function errorKey(layout: KeyLayout, key: string, at: Date, etag: string): string {
  return `${layout.error}${movedName(key, at, etag)}`;
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
