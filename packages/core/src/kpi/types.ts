/** A catalog track, as the KPI engine needs it. */
export interface Track {
  readonly trackId: string;
  readonly name: string;
  readonly genre: string;
  readonly durationMs: number;
  /** The `artists` column of the songs file, when it has one. */
  readonly artists?: string | undefined;
}

/** Daily statistics of one genre. */
export interface GenreStat {
  readonly listenDate: string;
  readonly genre: string;
  /** Listens (stream rows) of the genre's tracks that day. */
  readonly listenCount: number;
  /** Distinct `user_id`s among those listens. */
  readonly uniqueListeners: number;
  /** Sum of the listened tracks' `duration_ms`. */
  readonly totalListeningTimeMs: number;
  /** `totalListeningTimeMs / uniqueListeners`, unrounded. */
  readonly avgListeningTimePerUserMs: number;
}

/** One of the top 3 tracks of a genre on a day. */
export interface TopSong {
  readonly listenDate: string;
  readonly genre: string;
  /** 1, 2 or 3. */
  readonly rank: number;
  readonly trackId: string;
  readonly trackName: string;
  /** The track's `artists`, when the songs file had that column. */
  readonly artists?: string | undefined;
  readonly listenCount: number;
}

/** One of the top 5 genres of a day. */
export interface TopGenre {
  readonly listenDate: string;
  /** 1 to 5. */
  readonly rank: number;
  readonly genre: string;
  readonly listenCount: number;
}

/**
 * The three KPI sets, sorted: genre stats by date then genre; top songs by date, genre, rank;
 * top genres by date, rank. Strings compare by code point.
 */
export interface KpiSet {
  readonly genreStats: GenreStat[];
  readonly topSongs: TopSong[];
  readonly topGenres: TopGenre[];
}
