import { z } from "zod";
import { KpiOverflowError, PartialFormatError } from "../errors/index.js";
import { PARTIAL_FORMAT, PARTIAL_VERSION, TOP_GENRES_PER_DAY, TOP_SONGS_PER_GENRE } from "./limits.js";
import { compareCodePoints, sortedByCodePoint } from "./order.js";
import { TopList } from "./ranking.js";
import type { GenreStat, KpiSet, TopGenre, TopSong, Track } from "./types.js";

export { PARTIAL_FORMAT, PARTIAL_VERSION, TOP_GENRES_PER_DAY, TOP_SONGS_PER_GENRE } from "./limits.js";

interface GenreCell {
  listens: number;
  totalMs: number;
  readonly listeners: Set<string>;
  /** Listens per track id. */
  readonly tracks: Map<string, number>;
}

interface TrackLabel {
  readonly name: string;
  readonly artists: string | undefined;
}

const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const partialStateSchema = z.object({
  format: z.literal(PARTIAL_FORMAT),
  version: z.literal(PARTIAL_VERSION),
  tracks: z.array(z.tuple([z.string(), z.string(), z.string().nullable()])),
  days: z.array(
    z.object({
      date: z.string(),
      genres: z.array(
        z.object({
          genre: z.string(),
          listens: count,
          totalMs: count,
          listeners: z.array(z.string()),
          tracks: z.array(z.tuple([z.string(), count])),
        }),
      ),
    }),
  ),
});

/**
 * The serialisable state of a {@link KpiAccumulator}: a file's KPI *partial*. Canonical: two
 * accumulators holding the same data produce deep-equal states (every list is sorted).
 * @interface
 */
export type KpiPartialState = z.infer<typeof partialStateSchema>;

function checkedSum(a: number, b: number, what: string): number {
  const sum = a + b;
  if (!Number.isSafeInteger(sum)) throw new KpiOverflowError(`${what} exceeds ${Number.MAX_SAFE_INTEGER}`);
  return sum;
}

/**
 * A mergeable accumulator of the KPIs (docs/kpis.md): per (listen date, genre) the listen count,
 * the set of distinct listeners, the listening time and the listens per track.
 *
 * Feed it cleaned, joined rows with {@link add}, combine accumulators with {@link merge}
 * (associative and commutative: any split of the rows into accumulators, merged in any order,
 * gives the same result), store them with {@link toState} / {@link fromState}, and compute the
 * KPI sets with {@link finalize}.
 *
 * @example
 * const acc = new KpiAccumulator();
 * acc.add("2025-06-22", "u1", { trackId: "t1", name: "Song", genre: "pop", durationMs: 180000 });
 * acc.finalize().genreStats[0]; // { listenDate: "2025-06-22", genre: "pop", listenCount: 1, ... }
 */
export class KpiAccumulator {
  readonly #days = new Map<string, Map<string, GenreCell>>();
  readonly #labels = new Map<string, TrackLabel>();

  /** Counts one listen of `track` by `userId` on `listenDate` (`YYYY-MM-DD`, UTC). */
  add(listenDate: string, userId: string, track: Track): void {
    let genres = this.#days.get(listenDate);
    if (genres === undefined) {
      genres = new Map();
      this.#days.set(listenDate, genres);
    }
    let cell = genres.get(track.genre);
    if (cell === undefined) {
      cell = { listens: 0, totalMs: 0, listeners: new Set(), tracks: new Map() };
      genres.set(track.genre, cell);
    }
    cell.listens++;
    cell.totalMs += track.durationMs;
    cell.listeners.add(userId);
    cell.tracks.set(track.trackId, (cell.tracks.get(track.trackId) ?? 0) + 1);
    this.#label(track.trackId, track.name, track.artists);
  }

  /** Records a track's display name; when two differ, the smaller (by code point) wins, so merging stays order-independent. */
  #label(trackId: string, name: string, artists: string | undefined): void {
    const existing = this.#labels.get(trackId);
    if (existing === undefined) {
      this.#labels.set(trackId, { name, artists });
      return;
    }
    if (existing.name === name && existing.artists === artists) return;
    const byName = compareCodePoints(name, existing.name);
    const byArtists = compareCodePoints(artists ?? "", existing.artists ?? "");
    if (byName < 0 || (byName === 0 && byArtists < 0)) this.#labels.set(trackId, { name, artists });
  }

  /** `true` when no listen was added. */
  get isEmpty(): boolean {
    return this.#days.size === 0;
  }

  /** The listen dates this accumulator holds, sorted. */
  dates(): string[] {
    return sortedByCodePoint(this.#days.keys());
  }

  /** Total listens held. */
  get listenCount(): number {
    let total = 0;
    for (const genres of this.#days.values()) for (const cell of genres.values()) total += cell.listens;
    return total;
  }

  /** Adds everything `other` holds into this accumulator and returns this one. `other` is not changed. */
  merge(other: KpiAccumulator): this {
    for (const [date, otherGenres] of other.#days) {
      let genres = this.#days.get(date);
      if (genres === undefined) {
        genres = new Map();
        this.#days.set(date, genres);
      }
      for (const [genre, o] of otherGenres) {
        const cell = genres.get(genre);
        if (cell === undefined) {
          genres.set(genre, {
            listens: o.listens,
            totalMs: o.totalMs,
            listeners: new Set(o.listeners),
            tracks: new Map(o.tracks),
          });
          continue;
        }
        cell.listens = checkedSum(cell.listens, o.listens, `listen count of ${date}/${genre}`);
        cell.totalMs = checkedSum(cell.totalMs, o.totalMs, `listening time of ${date}/${genre}`);
        for (const user of o.listeners) cell.listeners.add(user);
        for (const [trackId, n] of o.tracks) {
          cell.tracks.set(
            trackId,
            checkedSum(cell.tracks.get(trackId) ?? 0, n, `listen count of track ${trackId}`),
          );
        }
      }
    }
    for (const [trackId, label] of other.#labels) this.#label(trackId, label.name, label.artists);
    return this;
  }

  /** A new accumulator holding only the given listen dates (and the labels of their tracks). */
  pick(dates: Iterable<string>): KpiAccumulator {
    const out = new KpiAccumulator();
    for (const date of dates) {
      const genres = this.#days.get(date);
      if (genres === undefined) continue;
      const part = new KpiAccumulator();
      part.#days.set(date, genres);
      for (const cell of genres.values()) {
        for (const trackId of cell.tracks.keys()) part.#labels.set(trackId, this.#labels.get(trackId)!);
      }
      out.merge(part);
    }
    return out;
  }

  /** Merges any number of accumulators into a new one. */
  static merge(parts: Iterable<KpiAccumulator>): KpiAccumulator {
    const out = new KpiAccumulator();
    for (const part of parts) out.merge(part);
    return out;
  }

  /** The canonical serialisable state of this accumulator (see {@link KpiPartialState}). */
  toState(): KpiPartialState {
    const trackIds = new Set<string>();
    const days = sortedByCodePoint(this.#days.keys()).map((date) => {
      const genres = this.#days.get(date)!;
      return {
        date,
        genres: sortedByCodePoint(genres.keys()).map((genre) => {
          const cell = genres.get(genre)!;
          for (const trackId of cell.tracks.keys()) trackIds.add(trackId);
          return {
            genre,
            listens: cell.listens,
            totalMs: cell.totalMs,
            listeners: sortedByCodePoint(cell.listeners),
            tracks: [...cell.tracks].sort((a, b) => compareCodePoints(a[0], b[0])),
          };
        }),
      };
    });
    const tracks = sortedByCodePoint(trackIds).map((id): [string, string, string | null] => {
      const label = this.#labels.get(id)!;
      return [id, label.name, label.artists ?? null];
    });
    return { format: PARTIAL_FORMAT, version: PARTIAL_VERSION, tracks, days };
  }

  /**
   * Rebuilds an accumulator from a state produced by {@link toState} (possibly after a JSON
   * round trip). Throws {@link PartialFormatError} when the state is not a valid partial of a
   * version this release reads.
   */
  static fromState(state: unknown): KpiAccumulator {
    const parsed = partialStateSchema.safeParse(state);
    if (!parsed.success) {
      const version = (state as { version?: unknown } | null)?.version;
      const detail =
        typeof version === "number" && version !== PARTIAL_VERSION
          ? `version ${version} is not supported (this release reads version ${PARTIAL_VERSION})`
          : z.prettifyError(parsed.error);
      throw new PartialFormatError(`invalid KPI partial: ${detail}`, { cause: parsed.error });
    }
    const acc = new KpiAccumulator();
    for (const [id, name, artists] of parsed.data.tracks)
      acc.#labels.set(id, { name, artists: artists ?? undefined });
    for (const day of parsed.data.days) {
      const genres = new Map<string, GenreCell>();
      for (const g of day.genres) {
        for (const [trackId] of g.tracks) {
          if (!acc.#labels.has(trackId))
            throw new PartialFormatError(`invalid KPI partial: track ${trackId} has no label`);
        }
        genres.set(g.genre, {
          listens: g.listens,
          totalMs: g.totalMs,
          listeners: new Set(g.listeners),
          tracks: new Map(g.tracks),
        });
      }
      acc.#days.set(day.date, genres);
    }
    return acc;
  }

  /** Computes the three KPI sets with the exact semantics and tie-breaks of the KPI definitions. */
  finalize(): KpiSet {
    const genreStats: GenreStat[] = [];
    const topSongs: TopSong[] = [];
    const topGenres: TopGenre[] = [];
    for (const listenDate of sortedByCodePoint(this.#days.keys())) {
      const genres = this.#days.get(listenDate)!;
      const names = sortedByCodePoint(genres.keys());
      for (const genre of names) {
        const cell = genres.get(genre)!;
        genreStats.push({
          listenDate,
          genre,
          listenCount: cell.listens,
          uniqueListeners: cell.listeners.size,
          totalListeningTimeMs: cell.totalMs,
          avgListeningTimePerUserMs: cell.totalMs / cell.listeners.size,
        });
        const best = top(cell.tracks, TOP_SONGS_PER_GENRE);
        best.forEach(([trackId, listenCount], i) => {
          const label = this.#labels.get(trackId)!;
          topSongs.push({
            listenDate,
            genre,
            rank: i + 1,
            trackId,
            trackName: label.name,
            ...(label.artists === undefined ? {} : { artists: label.artists }),
            listenCount,
          });
        });
      }
      const byGenre = new Map<string, number>();
      for (const genre of names) byGenre.set(genre, genres.get(genre)!.listens);
      top(byGenre, TOP_GENRES_PER_DAY).forEach(([genre, listenCount], i) => {
        topGenres.push({ listenDate, rank: i + 1, genre, listenCount });
      });
    }
    return { genreStats, topSongs, topGenres };
  }
}

/** The `n` entries with the highest counts; ties broken by key, ascending by code point. */
function top(counts: ReadonlyMap<string, number>, n: number): [string, number][] {
  const best = new TopList<string>(n, compareCodePoints);
  for (const [key, count] of counts) best.offer(key, count);
  return best.keys.map((key, i) => [key, best.counts[i]!]);
}
