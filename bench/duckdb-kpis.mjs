// The KPI job of section 7 in one DuckDB SQL statement, for the benchmark. Semantics as in
// docs/kpis.md for the generated data: first valid occurrence of a track wins, bad rows and
// unknown ids are dropped, exact duplicates within a file count once.
//   node bench/duckdb-kpis.mjs [--typed] OUT.json SONGS.csv USERS.csv STREAMS.csv...
// By default streams columns are read as text and a listen_time that does not cast to a
// timestamp drops the row (the check musicpipe makes). --typed lets DuckDB's CSV reader type
// listen_time as TIMESTAMP while reading (faster; the same result on files whose times are all
// in a form DuckDB reads, as the generated ones are).
import { writeFileSync } from "node:fs";
import { DuckDBInstance } from "@duckdb/node-api";

const typed = process.argv[2] === "--typed";
const [out, songs, users, ...streams] = process.argv.slice(typed ? 3 : 2);
const list = (paths) => `[${paths.map((p) => `'${p.replaceAll("'", "''")}'`).join(", ")}]`;
const csv = "all_varchar = true, header = true, quote = '\"', escape = '\"'";
const sql = `
WITH songs_raw AS (
  SELECT *, row_number() OVER () AS rn FROM read_csv(${list([songs])}, ${csv}, ignore_errors = true, strict_mode = true)
), songs_valid AS (
  SELECT track_id, track_name, track_genre, CAST(trim(duration_ms) AS BIGINT) AS duration_ms, rn FROM songs_raw
  WHERE trim(coalesce(track_id, '')) <> ''
    AND regexp_full_match(trim(coalesce(duration_ms, '')), '\\+?[0-9]+')
    AND trim(coalesce(track_genre, '')) <> ''
    AND NOT regexp_full_match(trim(track_genre), '[+-]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][+-]?[0-9]+)?')
), catalog AS (
  SELECT * FROM songs_valid QUALIFY row_number() OVER (PARTITION BY track_id ORDER BY rn) = 1
), known_users AS (
  SELECT DISTINCT user_id FROM read_csv(${list([users])}, ${csv}) WHERE trim(coalesce(user_id, '')) <> ''
), rows AS (${
  typed
    ? `
  SELECT DISTINCT filename, user_id, track_id, listen_time AS ts
  FROM read_csv(${list(streams)}, header = true, filename = true,
    columns = {'user_id': 'VARCHAR', 'track_id': 'VARCHAR', 'listen_time': 'TIMESTAMP'})
  WHERE trim(coalesce(user_id, '')) <> '' AND trim(coalesce(track_id, '')) <> '' AND listen_time IS NOT NULL`
    : `
  SELECT DISTINCT filename, user_id, track_id, try_cast(listen_time AS TIMESTAMP) AS ts
  FROM read_csv(${list(streams)}, ${csv}, filename = true)
  WHERE trim(coalesce(user_id, '')) <> '' AND trim(coalesce(track_id, '')) <> '' AND try_cast(listen_time AS TIMESTAMP) IS NOT NULL`
}
), joined AS (
  SELECT CAST(r.ts AS DATE) AS d, r.user_id, r.track_id, c.track_genre AS genre, c.duration_ms, c.track_name
  FROM rows r JOIN catalog c USING (track_id) JOIN known_users u USING (user_id)
), genre_stats AS (
  SELECT d, genre, count(*) AS listens, count(DISTINCT user_id) AS uniq, sum(duration_ms) AS total FROM joined GROUP BY d, genre
), track_counts AS (
  SELECT d, genre, track_id, any_value(track_name) AS track_name, count(*) AS listens FROM joined GROUP BY d, genre, track_id
)
SELECT 'g' AS kind, strftime(d, '%Y-%m-%d') AS d, genre, NULL AS rnk, NULL AS track_id, NULL AS track_name, listens, uniq, total FROM genre_stats
UNION ALL
SELECT 's', strftime(d, '%Y-%m-%d'), genre, rnk, track_id, track_name, listens, NULL, NULL FROM (
  SELECT *, row_number() OVER (PARTITION BY d, genre ORDER BY listens DESC, track_id) AS rnk FROM track_counts
) WHERE rnk <= 3
UNION ALL
SELECT 't', strftime(d, '%Y-%m-%d'), genre, rnk, NULL, NULL, listens, NULL, NULL FROM (
  SELECT d, genre, listens, row_number() OVER (PARTITION BY d ORDER BY listens DESC, genre) AS rnk FROM genre_stats
) WHERE rnk <= 5`;

const instance = await DuckDBInstance.create(":memory:", { threads: "2" });
const connection = await instance.connect();
const rows = (await connection.runAndReadAll(sql)).getRowObjects();
const num = (v) => Number(v);
const byCodePoint = (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b));
const genreStats = rows
  .filter((r) => r.kind === "g")
  .map((r) => ({
    listenDate: r.d,
    genre: r.genre,
    listenCount: num(r.listens),
    uniqueListeners: num(r.uniq),
    totalListeningTimeMs: num(r.total),
    avgListeningTimePerUserMs: num(r.total) / num(r.uniq),
  }))
  .sort((a, b) => byCodePoint(a.listenDate, b.listenDate) || byCodePoint(a.genre, b.genre));
const topSongs = rows
  .filter((r) => r.kind === "s")
  .map((r) => ({
    listenDate: r.d,
    genre: r.genre,
    rank: num(r.rnk),
    trackId: r.track_id,
    trackName: r.track_name,
    listenCount: num(r.listens),
  }))
  .sort(
    (a, b) => byCodePoint(a.listenDate, b.listenDate) || byCodePoint(a.genre, b.genre) || a.rank - b.rank,
  );
const topGenres = rows
  .filter((r) => r.kind === "t")
  .map((r) => ({ listenDate: r.d, rank: num(r.rnk), genre: r.genre, listenCount: num(r.listens) }))
  .sort((a, b) => byCodePoint(a.listenDate, b.listenDate) || a.rank - b.rank);
writeFileSync(out, JSON.stringify({ genreStats, topSongs, topGenres }));
