import { describe, expect, it } from "vitest";
import { computeKpis } from "../src/index.js";
import { memoryFile, SONGS, USERS } from "./helpers.js";

describe("the seed README's test files", () => {
  it("computes the KPIs of streams1.csv and rejects streams2.csv for its missing track_id", async () => {
    const run = await computeKpis({
      streams: [
        memoryFile(
          "streams1.csv",
          "user_id,track_id,listen_time\nu1,t1,2025-06-22 10:00:00\nu2,t2,2025-06-22 10:01:00\n",
        ),
        memoryFile("streams2.csv", "user_id,listen_time\nu1,2025-06-22 10:00:00\n"),
      ],
      songs: [memoryFile("songs1.csv", SONGS)],
      users: [memoryFile("users1.csv", USERS)],
    });
    expect(run.kpis.genreStats).toEqual([
      {
        listenDate: "2025-06-22",
        genre: "Pop",
        listenCount: 1,
        uniqueListeners: 1,
        totalListeningTimeMs: 180000,
        avgListeningTimePerUserMs: 180000,
      },
      {
        listenDate: "2025-06-22",
        genre: "Rock",
        listenCount: 1,
        uniqueListeners: 1,
        totalListeningTimeMs: 200000,
        avgListeningTimePerUserMs: 200000,
      },
    ]);
    expect(run.kpis.topGenres.map((g) => [g.rank, g.genre])).toEqual([
      [1, "Pop"],
      [2, "Rock"],
    ]);
    const rejected = run.files.find((f) => f.file === "streams2.csv");
    expect(rejected?.accepted).toBe(false);
    expect(rejected?.rejection?.code).toBe("missing_column");
    expect(rejected?.rejection?.columns).toEqual(["track_id"]);
  });
});
