import type { KpiSet } from "@musicpipe/core";

/**
 * The KPI JSON document of the CLI contract: `{"genreStats":[...],"topSongs":[...],"topGenres":[...]}`
 * with exactly the documented fields, in the documented order, one entry per line.
 */
export function kpisToJson(kpis: KpiSet): string {
  const genreStats = kpis.genreStats.map((g) => ({
    listenDate: g.listenDate,
    genre: g.genre,
    listenCount: g.listenCount,
    uniqueListeners: g.uniqueListeners,
    totalListeningTimeMs: g.totalListeningTimeMs,
    avgListeningTimePerUserMs: g.avgListeningTimePerUserMs,
  }));
  const topSongs = kpis.topSongs.map((s) => ({
    listenDate: s.listenDate,
    genre: s.genre,
    rank: s.rank,
    trackId: s.trackId,
    trackName: s.trackName,
    listenCount: s.listenCount,
  }));
  const topGenres = kpis.topGenres.map((g) => ({
    listenDate: g.listenDate,
    rank: g.rank,
    genre: g.genre,
    listenCount: g.listenCount,
  }));
  const list = (items: readonly object[]) =>
    items.length === 0 ? "[]" : `[\n${items.map((item) => `    ${JSON.stringify(item)}`).join(",\n")}\n  ]`;
  return `{\n  "genreStats": ${list(genreStats)},\n  "topSongs": ${list(topSongs)},\n  "topGenres": ${list(topGenres)}\n}\n`;
}
