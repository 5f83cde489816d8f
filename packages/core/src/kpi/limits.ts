// Constants of the KPI semantics and the partial format, without zod (the fast readers' worker
// threads use them).

/** How many top songs per (date, genre) and top genres per date `KpiAccumulator.finalize` keeps. */
export const TOP_SONGS_PER_GENRE = 3;
/** @see TOP_SONGS_PER_GENRE */
export const TOP_GENRES_PER_DAY = 5;

/** Format tag of `KpiPartialState`. */
export const PARTIAL_FORMAT = "musicpipe.kpi-partial";
/** Version of `KpiPartialState` written by this release. */
export const PARTIAL_VERSION = 1;
