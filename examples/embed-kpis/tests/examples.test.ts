import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { kpisFromFiles } from "../src/kpis-from-files.js";
import { kpisOfDay, partialOf, tinyCatalog } from "../src/partials.js";

async function* bytes(text: string) {
  yield new TextEncoder().encode(text);
}

describe("embedding examples", () => {
  it("computes KPIs from files on disk", async () => {
    const dir = await mkdtemp(join(tmpdir(), "musicpipe-example-"));
    const put = async (name: string, text: string) => {
      await writeFile(join(dir, name), text);
      return join(dir, name);
    };
    const kpis = await kpisFromFiles({
      streams: [await put("s.csv", "user_id,track_id,listen_time\nu1,t1,2025-06-22 10:00:00\n")],
      songs: [await put("songs.csv", "track_id,track_name,track_genre,duration_ms\nt1,Song,pop,1000\n")],
      users: [await put("users.csv", "user_id,user_name\nu1,Ann\n")],
    });
    expect(kpis.topGenres).toEqual([{ listenDate: "2025-06-22", rank: 1, genre: "pop", listenCount: 1 }]);
  });

  it("merges stored partials of one day", async () => {
    const catalog = tinyCatalog();
    const a = await partialOf(
      "a.csv",
      bytes("user_id,track_id,listen_time\nu1,t1,2025-06-22 10:00:00\nu1,t1,2025-06-23 10:00:00\n"),
      catalog,
    );
    const b = await partialOf(
      "b.csv",
      bytes("user_id,track_id,listen_time\nu2,t1,2025-06-22 11:00:00\n"),
      catalog,
    );
    expect(kpisOfDay([a, b], "2025-06-22").genreStats).toEqual([
      {
        listenDate: "2025-06-22",
        genre: "pop",
        listenCount: 2,
        uniqueListeners: 2,
        totalListeningTimeMs: 360_000,
        avgListeningTimePerUserMs: 180_000,
      },
    ]);
  });
});
