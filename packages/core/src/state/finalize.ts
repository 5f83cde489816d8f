import { TOP_GENRES_PER_DAY } from "../kpi/accumulator.js";
import { compareCodePoints } from "../kpi/order.js";
import { TopList } from "../kpi/ranking.js";
import type { GenreStat, KpiSet, TopGenre, TopSong } from "../kpi/types.js";
import type { ShardSummary } from "./day-state.js";

/**
 * The KPI sets of one listen date from the summaries of all its shards (one each, shard 0 to
 * `shards - 1`, all including the same partials): distinct listeners add up over shards (a user
 * is in one shard), listens, listening time and top songs come from shard 0. `undefined` when
 * the summaries do not describe one consistent state (a shard is missing or includes other
 * partials: a load is still under way).
 */
export function dayKpis(summaries: readonly ShardSummary[]): KpiSet | undefined {
  const first = summaries[0];
  if (first === undefined) return undefined;
  const byShard = new Map(summaries.map((s) => [s.shard, s]));
  for (let s = 0; s < first.shards; s++) {
    const summary = byShard.get(s);
    if (
      summary === undefined ||
      summary.shards !== first.shards ||
      summary.listenDate !== first.listenDate ||
      summary.sourcesDigest !== first.sourcesDigest ||
      summary.sourceCount !== first.sourceCount
    )
      return undefined;
  }
  const listenDate = first.listenDate;
  const unique = new Map<string, number>();
  for (const s of byShard.values()) {
    for (const g of s.genres) unique.set(g.genre, (unique.get(g.genre) ?? 0) + g.uniqueListeners);
  }
  const genreStats: GenreStat[] = [];
  const topSongs: TopSong[] = [];
  const best = new TopList<string>(TOP_GENRES_PER_DAY, compareCodePoints);
  for (const g of byShard.get(0)!.genres) {
    const listenCount = g.listenCount ?? 0;
    if (listenCount === 0) continue;
    const uniqueListeners = unique.get(g.genre)!;
    const total = g.totalListeningTimeMs ?? 0;
    genreStats.push({
      listenDate,
      genre: g.genre,
      listenCount,
      uniqueListeners,
      totalListeningTimeMs: total,
      avgListeningTimePerUserMs: total / uniqueListeners,
    });
    (g.topSongs ?? []).forEach((song, i) => {
      topSongs.push({
        listenDate,
        genre: g.genre,
        rank: i + 1,
        trackId: song.trackId,
        trackName: song.trackName,
        ...(song.artists === undefined ? {} : { artists: song.artists }),
        listenCount: song.listenCount,
      });
    });
    best.offer(g.genre, listenCount);
  }
  const topGenres: TopGenre[] = best.keys.map((genre, i) => ({
    listenDate,
    rank: i + 1,
    genre,
    listenCount: best.counts[i]!,
  }));
  return { genreStats, topSongs, topGenres };
}
