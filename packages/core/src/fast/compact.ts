import { KpiOverflowError } from "../errors/index.js";
import {
  KpiAccumulator,
  type KpiPartialState,
  PARTIAL_FORMAT,
  PARTIAL_VERSION,
  TOP_GENRES_PER_DAY,
  TOP_SONGS_PER_GENRE,
} from "../kpi/accumulator.js";
import { compareCodePoints, sortedByCodePoint } from "../kpi/order.js";
import type { GenreStat, KpiSet, TopGenre, TopSong } from "../kpi/types.js";
import { civilFromDays, daysFromCivil } from "../schema/listen-time.js";
import type { CatalogIndex } from "./catalog-index.js";

/** {@link CompactKpis} as plain transferable data. */
export interface CompactTransfer {
  readonly days: readonly {
    readonly day: number;
    readonly counts: Int32Array;
    readonly listeners: readonly { readonly genre: number; readonly bits: Uint32Array }[];
  }[];
}

/** The buffers of a {@link CompactTransfer}, for `postMessage`'s transfer list. */
export function transferList(transfer: CompactTransfer): ArrayBuffer[] {
  return transfer.days.flatMap((d) => [
    d.counts.buffer as ArrayBuffer,
    ...d.listeners.map((l) => l.bits.buffer as ArrayBuffer),
  ]);
}

interface DayCell {
  /** Listens per track index. */
  readonly counts: Int32Array;
  /** Per genre index, a bitmap of the user indexes that listened (allocated on first use). */
  readonly listeners: (Uint32Array | undefined)[];
}

function popcount(words: Uint32Array): number {
  let n = 0;
  for (let i = 0; i < words.length; i++) {
    let v = words[i]!;
    if (v === 0) continue;
    v -= (v >>> 1) & 0x55555555;
    v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
    n += Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
  }
  return n;
}

function safe(value: number, what: string): number {
  if (!Number.isSafeInteger(value)) throw new KpiOverflowError(`${what} exceeds ${Number.MAX_SAFE_INTEGER}`);
  return value;
}

/**
 * The KPI accumulator of the fast row source: integers over a {@link CatalogIndex}. Per listen
 * day, listens per track (a dense array) and per genre a bitmap of listeners; genre listens and
 * listening time derive from the track counts (a track's genre and duration are fixed by the
 * catalog). Merging adds counts and ORs bitmaps. {@link finalize} gives exactly what
 * `KpiAccumulator.finalize` gives for the same rows; {@link toAccumulator} converts to the
 * general accumulator (for storing a partial).
 */
export class CompactKpis {
  readonly #index: CatalogIndex;
  readonly #days = new Map<number, DayCell>();
  readonly #words: number;
  readonly #trackGenre: Int32Array;
  #lastDay = Number.NaN;
  #lastCell: DayCell | undefined;

  constructor(index: CatalogIndex) {
    this.#index = index;
    this.#words = (index.userCount + 31) >>> 5;
    this.#trackGenre = index.trackGenre;
  }

  get index(): CatalogIndex {
    return this.#index;
  }

  #cell(day: number): DayCell {
    let cell = this.#days.get(day);
    if (cell === undefined) {
      cell = {
        counts: new Int32Array(this.#index.trackCount),
        // Filled, not holey: the hot loop's loads stay on a packed array.
        listeners: new Array(this.#index.genres.length).fill(undefined),
      };
      this.#days.set(day, cell);
    }
    this.#lastDay = day;
    this.#lastCell = cell;
    return cell;
  }

  /** Counts one listen of track index `track` by user index `user` on day number `day`. */
  add(day: number, track: number, user: number): void {
    const cell = day === this.#lastDay ? this.#lastCell! : this.#cell(day);
    cell.counts[track]!++;
    const g = this.#trackGenre[track]!;
    let bitmap = cell.listeners[g];
    if (bitmap === undefined) {
      bitmap = new Uint32Array(this.#words);
      cell.listeners[g] = bitmap;
    }
    bitmap[user >>> 5]! |= 1 << (user & 31);
  }

  /**
   * Takes back one listen of `track` on day number `day`: a row found, when the ranges of a file
   * are merged, to duplicate a row of an earlier range. Its listener stays counted: the earlier
   * row has the same user, day and genre.
   */
  remove(day: number, track: number): void {
    const cell = this.#days.get(day);
    if (cell === undefined || cell.counts[track]! <= 0)
      throw new Error(`CompactKpis.remove: no listen of track ${track} on day ${day}`);
    cell.counts[track]!--;
  }

  /**
   * Adds a general partial's state (from the general reader, over the same catalog) into this
   * one. Ids that the catalog index does not know are an error: they cannot come from it.
   */
  mergeState(state: KpiPartialState): this {
    const encoder = new TextEncoder();
    const genreIndex = new Map(this.#index.genres.map((g, i) => [g, i]));
    for (const { date, genres } of state.days) {
      const cell = this.#cell(
        daysFromCivil(Number(date.slice(0, 4)), Number(date.slice(5, 7)), Number(date.slice(8, 10))),
      );
      for (const g of genres) {
        const gi = genreIndex.get(g.genre);
        for (const [id, count] of g.tracks) {
          const bytes = encoder.encode(id);
          const t = this.#index.tracks.find(bytes, 0, bytes.length);
          if (t === -1 || gi === undefined)
            throw new Error(
              `CompactKpis.mergeState: track '${id}' of genre '${g.genre}' is not in the catalog index`,
            );
          cell.counts[t]! += count;
        }
        if (gi === undefined) continue;
        let bitmap = cell.listeners[gi];
        if (bitmap === undefined) {
          bitmap = new Uint32Array(this.#words);
          cell.listeners[gi] = bitmap;
        }
        for (const userId of g.listeners) {
          const bytes = encoder.encode(userId);
          const u = this.#index.users.find(bytes, 0, bytes.length);
          if (u === -1)
            throw new Error(`CompactKpis.mergeState: user '${userId}' is not in the catalog index`);
          bitmap[u >>> 5]! |= 1 << (u & 31);
        }
      }
    }
    return this;
  }

  /**
   * The data as transferable arrays, to send from a worker thread (`postMessage(t, transfer)`
   * with {@link transferList}); {@link mergeTransfer} adds it into an accumulator over the
   * same catalog.
   */
  toTransfer(): CompactTransfer {
    return {
      days: [...this.#days].map(([day, cell]) => ({
        day,
        counts: cell.counts,
        listeners: cell.listeners.flatMap((bits, genre) => (bits === undefined ? [] : [{ genre, bits }])),
      })),
    };
  }

  /** Adds data from {@link toTransfer} (of an accumulator over the same catalog). */
  mergeTransfer(transfer: CompactTransfer): this {
    for (const { day, counts, listeners } of transfer.days) {
      const cell = this.#days.get(day) ?? this.#cell(day);
      for (let t = 0; t < counts.length; t++) if (counts[t] !== 0) cell.counts[t]! += counts[t]!;
      for (const { genre, bits } of listeners) {
        const mine = cell.listeners[genre];
        if (mine === undefined) cell.listeners[genre] = bits;
        else for (let i = 0; i < bits.length; i++) mine[i]! |= bits[i]!;
      }
    }
    return this;
  }

  /** Adds `other` (over the same catalog index) into this one. */
  merge(other: CompactKpis): this {
    if (other.#index !== this.#index) throw new Error("CompactKpis.merge: different catalog indexes");
    for (const [day, o] of other.#days) {
      const cell = this.#days.get(day) ?? this.#cell(day);
      for (let t = 0; t < o.counts.length; t++) if (o.counts[t] !== 0) cell.counts[t]! += o.counts[t]!;
      o.listeners.forEach((bits, g) => {
        if (bits === undefined) return;
        const mine = cell.listeners[g];
        if (mine === undefined) cell.listeners[g] = bits.slice();
        else for (let i = 0; i < bits.length; i++) mine[i]! |= bits[i]!;
      });
    }
    return this;
  }

  /** Day numbers held, ascending. */
  #sortedDays(): number[] {
    return [...this.#days.keys()].sort((a, b) => a - b);
  }

  /** The listen dates held, sorted. */
  dates(): string[] {
    return this.#sortedDays().map(civilFromDays);
  }

  /** Total listens held. */
  get listenCount(): number {
    let n = 0;
    for (const cell of this.#days.values()) for (const c of cell.counts) n += c;
    return n;
  }

  /** The three KPI sets, with the semantics and tie-breaks of `KpiAccumulator.finalize`. */
  finalize(): KpiSet {
    const { genres, genreOrder, trackGenre, trackDuration, trackIds, trackNames, trackArtists } = this.#index;
    const G = genres.length;
    const genreStats: GenreStat[] = [];
    const topSongs: TopSong[] = [];
    const topGenres: TopGenre[] = [];
    const listens = new Float64Array(G);
    const totalMs = new Float64Array(G);
    const best = new Int32Array(G * TOP_SONGS_PER_GENRE);
    const bestCount = new Int32Array(G);
    const beats = (a: number, ca: number, b: number, cb: number) =>
      ca > cb || (ca === cb && compareCodePoints(trackIds[a]!, trackIds[b]!) < 0);
    for (const day of this.#sortedDays()) {
      const cell = this.#days.get(day)!;
      const listenDate = civilFromDays(day);
      listens.fill(0);
      totalMs.fill(0);
      bestCount.fill(0);
      const counts = cell.counts;
      for (let t = 0; t < counts.length; t++) {
        const c = counts[t]!;
        if (c === 0) continue;
        const g = trackGenre[t]!;
        listens[g]! += c;
        totalMs[g]! += c * trackDuration[t]!;
        // Insert t into the genre's top list (kept sorted, at most TOP_SONGS_PER_GENRE long).
        const base = g * TOP_SONGS_PER_GENRE;
        let n = bestCount[g]!;
        let i = n;
        while (i > 0 && beats(t, c, best[base + i - 1]!, counts[best[base + i - 1]!]!)) i--;
        if (i >= TOP_SONGS_PER_GENRE) continue;
        if (n < TOP_SONGS_PER_GENRE) n++;
        for (let j = n - 1; j > i; j--) best[base + j] = best[base + j - 1]!;
        best[base + i] = t;
        bestCount[g] = n;
      }
      const present: number[] = [];
      for (const g of genreOrder) {
        if (listens[g] === 0) continue;
        present.push(g);
        const genre = genres[g]!;
        const unique = popcount(cell.listeners[g]!);
        const total = safe(totalMs[g]!, `listening time of ${listenDate}/${genre}`);
        genreStats.push({
          listenDate,
          genre,
          listenCount: safe(listens[g]!, `listen count of ${listenDate}/${genre}`),
          uniqueListeners: unique,
          totalListeningTimeMs: total,
          avgListeningTimePerUserMs: total / unique,
        });
        for (let r = 0; r < bestCount[g]!; r++) {
          const t = best[g * TOP_SONGS_PER_GENRE + r]!;
          const artists = trackArtists[t];
          topSongs.push({
            listenDate,
            genre,
            rank: r + 1,
            trackId: trackIds[t]!,
            trackName: trackNames[t]!,
            ...(artists === undefined ? {} : { artists }),
            listenCount: counts[t]!,
          });
        }
      }
      const ranked = present
        .sort((a, b) => listens[b]! - listens[a]! || compareCodePoints(genres[a]!, genres[b]!))
        .slice(0, TOP_GENRES_PER_DAY);
      for (const [i, g] of ranked.entries()) {
        topGenres.push({ listenDate, rank: i + 1, genre: genres[g]!, listenCount: listens[g]! });
      }
    }
    return { genreStats, topSongs, topGenres };
  }

  /** The same data as a general {@link KpiAccumulator} (ids as strings), e.g. to store as a partial. */
  toAccumulator(): KpiAccumulator {
    const { genres, genreOrder, trackGenre, trackDuration, trackIds, trackNames, trackArtists, userIds } =
      this.#index;
    const usedTracks = new Set<number>();
    const days = this.#sortedDays().map((day) => {
      const cell = this.#days.get(day)!;
      const perGenre = new Map<number, { listens: number; totalMs: number; tracks: [string, number][] }>();
      cell.counts.forEach((c, t) => {
        if (c === 0) return;
        usedTracks.add(t);
        const g = trackGenre[t]!;
        let entry = perGenre.get(g);
        if (entry === undefined) {
          entry = { listens: 0, totalMs: 0, tracks: [] };
          perGenre.set(g, entry);
        }
        entry.listens += c;
        entry.totalMs += c * trackDuration[t]!;
        entry.tracks.push([trackIds[t]!, c]);
      });
      const genresOfDay = [...genreOrder].filter((g) => perGenre.has(g));
      return {
        date: civilFromDays(day),
        genres: genresOfDay.map((g) => {
          const entry = perGenre.get(g)!;
          const bits = cell.listeners[g]!;
          const listeners: string[] = [];
          for (let w = 0; w < bits.length; w++) {
            let word = bits[w]!;
            while (word !== 0) {
              const low = word & -word;
              listeners.push(userIds[w * 32 + 31 - Math.clz32(low)]!);
              word ^= low;
            }
          }
          return {
            genre: genres[g]!,
            listens: entry.listens,
            totalMs: entry.totalMs,
            listeners: sortedByCodePoint(listeners),
            tracks: entry.tracks.sort((a, b) => compareCodePoints(a[0], b[0])),
          };
        }),
      };
    });
    const tracks = [...usedTracks]
      .sort((a, b) => compareCodePoints(trackIds[a]!, trackIds[b]!))
      .map((t): [string, string, string | null] => [trackIds[t]!, trackNames[t]!, trackArtists[t] ?? null]);
    return KpiAccumulator.fromState({ format: PARTIAL_FORMAT, version: PARTIAL_VERSION, tracks, days });
  }
}
