import { KpiOverflowError } from "../errors/index.js";
import type { KpiPartialState } from "../kpi/accumulator.js";
import { PARTIAL_FORMAT, PARTIAL_VERSION, TOP_GENRES_PER_DAY, TOP_SONGS_PER_GENRE } from "../kpi/limits.js";
import { compareCodePoints } from "../kpi/order.js";
import { byNumber, TopList } from "../kpi/ranking.js";
import type { GenreStat, KpiSet, TopGenre, TopSong } from "../kpi/types.js";
import { civilFromDays, daysFromCivil } from "../schema/listen-time.js";
import type { CatalogIndex } from "./catalog-index.js";
import { IntCounter, IntSet } from "./sparse.js";

/** {@link CompactKpis} as plain transferable data: per day, listens per track and listeners per genre (in no order). */
export interface CompactTransfer {
  readonly days: readonly {
    readonly day: number;
    readonly tracks: Int32Array;
    readonly counts: Int32Array;
    readonly listeners: readonly { readonly genre: number; readonly users: Int32Array }[];
  }[];
}

/** The buffers of a {@link CompactTransfer}, for `postMessage`'s transfer list. */
export function transferList(transfer: CompactTransfer): ArrayBuffer[] {
  return transfer.days.flatMap((d) => [
    d.tracks.buffer as ArrayBuffer,
    d.counts.buffer as ArrayBuffer,
    ...d.listeners.map((l) => l.users.buffer as ArrayBuffer),
  ]);
}

interface DayCell {
  /** Listens per track number. */
  readonly counts: IntCounter;
  /** Per genre number, the user numbers that listened (made on first use). */
  readonly listeners: (IntSet | undefined)[];
}

function safe(value: number, what: string): number {
  if (!Number.isSafeInteger(value)) throw new KpiOverflowError(`${what} exceeds ${Number.MAX_SAFE_INTEGER}`);
  return value;
}

/** A count of one (day, track) cell went past int32 (2,147,483,647 listens of one track on one day). */
function cellOverflow(day: number, track: number): never {
  throw new KpiOverflowError(`listen count of track ${track} on ${civilFromDays(day)} exceeds 2147483647`);
}

/**
 * The KPI accumulator of the fast row source: integers over a {@link CatalogIndex}. Per listen
 * day, listens per track and per genre the set of listeners, both sized by what they hold
 * (hash tables while sparse, arrays once dense: memory follows the distinct (day, track) and
 * (day, genre, user) cells present, not the catalog). Genre listens and listening time derive
 * from the track counts (a track's genre and duration are fixed by the catalog). {@link finalize}
 * gives exactly what `KpiAccumulator.finalize` gives for the same rows; {@link toState} gives
 * the partial state the general accumulator reads.
 */
export class CompactKpis {
  readonly #index: CatalogIndex;
  readonly #days = new Map<number, DayCell>();
  readonly #trackGenre: Int32Array;
  #lastDay = Number.NaN;
  #lastCell: DayCell | undefined;

  constructor(index: CatalogIndex) {
    this.#index = index;
    this.#trackGenre = index.trackGenre;
  }

  get index(): CatalogIndex {
    return this.#index;
  }

  #cell(day: number): DayCell {
    let cell = this.#days.get(day);
    if (cell === undefined) {
      // Sized like the day before (rows in time order fill days about evenly), so the tables
      // seldom grow.
      const like = this.#lastCell;
      cell = {
        counts: new IntCounter(this.#index.trackCount, like?.counts.size ?? 0),
        // Filled, not holey: the hot loop's loads stay on a packed array.
        listeners: new Array(this.#index.genres.length).fill(undefined),
      };
      if (like !== undefined) {
        for (let g = 0; g < like.listeners.length; g++) {
          const size = like.listeners[g]?.size ?? 0;
          if (size > 0) cell.listeners[g] = new IntSet(this.#index.userCount, size);
        }
      }
      this.#days.set(day, cell);
    }
    this.#lastDay = day;
    this.#lastCell = cell;
    return cell;
  }

  #listeners(cell: DayCell, genre: number): IntSet {
    let set = cell.listeners[genre];
    if (set === undefined) {
      set = new IntSet(this.#index.userCount);
      cell.listeners[genre] = set;
    }
    return set;
  }

  /** Counts one listen of track number `track` by user number `user` on day number `day`. */
  add(day: number, track: number, user: number): void {
    this.addOfGenre(day, track, this.#trackGenre[track]!, user);
  }

  /** {@link add} with the track's genre number already looked up. */
  addOfGenre(day: number, track: number, genre: number, user: number): void {
    const cell = day === this.#lastDay ? this.#lastCell! : this.#cell(day);
    if (cell.counts.add(track, 1) < 0) cellOverflow(day, track);
    const set = cell.listeners[genre] ?? this.#listeners(cell, genre);
    set.add(user);
  }

  /**
   * Takes back one listen of `track` on day number `day`: a row found, when the ranges of a file
   * are merged, to duplicate a row of an earlier range. Its listener stays counted: the earlier
   * row has the same user, day and genre.
   */
  remove(day: number, track: number): void {
    const cell = this.#days.get(day);
    if (cell === undefined || cell.counts.get(track) <= 0)
      throw new Error(`CompactKpis.remove: no listen of track ${track} on day ${day}`);
    cell.counts.add(track, -1);
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
          if (cell.counts.add(t, count) < 0) cellOverflow(this.#lastDay, t);
        }
        if (gi === undefined) continue;
        const set = this.#listeners(cell, gi);
        for (const userId of g.listeners) {
          const bytes = encoder.encode(userId);
          const u = this.#index.users.find(bytes, 0, bytes.length);
          if (u === -1)
            throw new Error(`CompactKpis.mergeState: user '${userId}' is not in the catalog index`);
          set.add(u);
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
      days: [...this.#days].map(([day, cell]) => {
        const { keys, counts } = cell.counts.dump();
        return {
          day,
          tracks: keys,
          counts,
          listeners: cell.listeners.flatMap((set, genre) =>
            set === undefined ? [] : [{ genre, users: set.members() }],
          ),
        };
      }),
    };
  }

  /** Adds data from {@link toTransfer} (of an accumulator over the same catalog). */
  mergeTransfer(transfer: CompactTransfer): this {
    for (const { day, tracks, counts, listeners } of transfer.days) {
      const cell = this.#cell(day);
      for (let i = 0; i < tracks.length; i++) {
        if (cell.counts.add(tracks[i]!, counts[i]!) < 0) cellOverflow(day, tracks[i]!);
      }
      for (const { genre, users } of listeners) this.#listeners(cell, genre).addAll(users);
    }
    return this;
  }

  /** Adds `other` (over the same catalog index) into this one. */
  merge(other: CompactKpis): this {
    if (other.#index !== this.#index) throw new Error("CompactKpis.merge: different catalog indexes");
    for (const [day, o] of other.#days) {
      const cell = this.#cell(day);
      o.counts.forEach((track, count) => {
        if (cell.counts.add(track, count) < 0) cellOverflow(day, track);
      });
      o.listeners.forEach((set, g) => {
        if (set !== undefined) this.#listeners(cell, g).addSet(set);
      });
    }
    return this;
  }

  /**
   * The cells of each day held, ascending by day: track numbers (ascending) with their listens,
   * and per genre number the listeners' user numbers (ascending), for encoding a partial.
   */
  *cells(): Generator<{
    readonly day: number;
    readonly tracks: Int32Array;
    readonly counts: Int32Array;
    readonly listeners: readonly (Int32Array | undefined)[];
  }> {
    for (const day of this.#sortedDays()) {
      const cell = this.#days.get(day)!;
      const { keys, counts } = cell.counts.entries();
      yield { day, tracks: keys, counts, listeners: cell.listeners.map((set) => set?.sorted()) };
    }
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
    for (const cell of this.#days.values()) {
      cell.counts.forEach((_, c) => {
        n += c;
      });
    }
    return n;
  }

  /** Bytes held by the sets and counters (what grows with the cells present). */
  get bytes(): number {
    let n = 0;
    for (const cell of this.#days.values()) {
      n += cell.counts.bytes;
      for (const set of cell.listeners) n += set?.bytes ?? 0;
    }
    return n;
  }

  /** The three KPI sets, with the semantics and tie-breaks of `KpiAccumulator.finalize`. */
  finalize(): KpiSet {
    const index = this.#index;
    const { genres, trackGenre, trackDuration } = index;
    const G = genres.length;
    const genreStats: GenreStat[] = [];
    const topSongs: TopSong[] = [];
    const topGenres: TopGenre[] = [];
    const listens = new Float64Array(G);
    const totalMs = new Float64Array(G);
    // Track numbers are in id order, so the tie-break on ids is one on numbers.
    const best = Array.from({ length: G }, () => new TopList<number>(TOP_SONGS_PER_GENRE, byNumber));
    for (const day of this.#sortedDays()) {
      const cell = this.#days.get(day)!;
      const listenDate = civilFromDays(day);
      listens.fill(0);
      totalMs.fill(0);
      for (const list of best) list.clear();
      cell.counts.forEach((t, c) => {
        const g = trackGenre[t]!;
        listens[g]! += c;
        totalMs[g]! += c * trackDuration[t]!;
        best[g]!.offer(t, c);
      });
      const byGenre = new TopList<string>(TOP_GENRES_PER_DAY, compareCodePoints);
      for (let g = 0; g < G; g++) {
        if (listens[g] === 0) continue;
        const genre = genres[g]!;
        const unique = cell.listeners[g]!.size;
        const total = safe(totalMs[g]!, `listening time of ${listenDate}/${genre}`);
        const count = safe(listens[g]!, `listen count of ${listenDate}/${genre}`);
        genreStats.push({
          listenDate,
          genre,
          listenCount: count,
          uniqueListeners: unique,
          totalListeningTimeMs: total,
          avgListeningTimePerUserMs: total / unique,
        });
        byGenre.offer(genre, count);
        const top = best[g]!;
        for (let r = 0; r < top.keys.length; r++) {
          const t = top.keys[r]!;
          const artists = index.trackArtists(t);
          topSongs.push({
            listenDate,
            genre,
            rank: r + 1,
            trackId: index.trackId(t),
            trackName: index.trackName(t),
            ...(artists === undefined ? {} : { artists }),
            listenCount: top.counts[r]!,
          });
        }
      }
      for (const [i, genre] of byGenre.keys.entries()) {
        topGenres.push({ listenDate, rank: i + 1, genre, listenCount: byGenre.counts[i]! });
      }
    }
    return { genreStats, topSongs, topGenres };
  }

  /**
   * The same data as a partial state (ids as strings): `KpiAccumulator.fromState(kpis.toState())`
   * is the general accumulator of the same rows.
   */
  toState(): KpiPartialState {
    const index = this.#index;
    const { genres, trackGenre, trackDuration } = index;
    const usedTracks = new Set<number>();
    const days = this.#sortedDays().map((day) => {
      const cell = this.#days.get(day)!;
      const perGenre = new Map<number, { listens: number; totalMs: number; tracks: [string, number][] }>();
      const { keys, counts } = cell.counts.entries();
      for (let i = 0; i < keys.length; i++) {
        const t = keys[i]!;
        const c = counts[i]!;
        usedTracks.add(t);
        const g = trackGenre[t]!;
        let entry = perGenre.get(g);
        if (entry === undefined) {
          entry = { listens: 0, totalMs: 0, tracks: [] };
          perGenre.set(g, entry);
        }
        entry.listens += c;
        entry.totalMs += c * trackDuration[t]!;
        entry.tracks.push([index.trackId(t), c]);
      }
      return {
        date: civilFromDays(day),
        genres: [...perGenre.keys()]
          .sort((a, b) => a - b)
          .map((g) => {
            const entry = perGenre.get(g)!;
            const users = cell.listeners[g]!.sorted();
            return {
              genre: genres[g]!,
              listens: entry.listens,
              totalMs: entry.totalMs,
              listeners: Array.from(users, (u) => index.userId(u)),
              tracks: entry.tracks,
            };
          }),
      };
    });
    const tracks = [...usedTracks]
      .sort((a, b) => a - b)
      .map((t): [string, string, string | null] => [
        index.trackId(t),
        index.trackName(t),
        index.trackArtists(t) ?? null,
      ]);
    return { format: PARTIAL_FORMAT, version: PARTIAL_VERSION, tracks, days };
  }
}
