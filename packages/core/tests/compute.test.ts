import { describe, expect, it } from "vitest";
import { computeKpis, type InputFile } from "../src/index.js";
import { gzipFile, memoryFile, SONGS, USERS } from "./helpers.js";

const STREAMS_HEADER = "user_id,track_id,listen_time\n";

async function kpis(
  streams: InputFile[],
  songs = [memoryFile("songs.csv", SONGS)],
  users = [memoryFile("users.csv", USERS)],
) {
  return computeKpis({ streams, songs, users });
}

describe("computeKpis", () => {
  it("counts an exact duplicate row within one file once, however its time is spelled", async () => {
    const run = await kpis([
      memoryFile(
        "s.csv",
        `${STREAMS_HEADER}u1,t1,2025-06-22 10:00:00\nu1,t1,2025-06-22T12:00:00+02:00\nu1,t1,2025-06-22 10:00:00\nu1,t1,2025-06-22 10:00:01\n`,
      ),
    ]);
    expect(run.kpis.genreStats[0]?.listenCount).toBe(2);
    expect(run.files.at(-1)).toMatchObject({ rowsRead: 4, rowsKept: 2, duplicateRows: 2, badRows: 0 });
  });

  it("counts the same row in two different files twice (repeat listens are not collapsed)", async () => {
    const row = `${STREAMS_HEADER}u1,t1,2025-06-22 10:00:00\n`;
    const run = await kpis([memoryFile("a.csv", row), memoryFile("b.csv", row)]);
    expect(run.kpis.genreStats[0]?.listenCount).toBe(2);
  });

  it("counts listens of the same track by the same user on the same day separately", async () => {
    const run = await kpis([
      memoryFile("s.csv", `${STREAMS_HEADER}u1,t1,2025-06-22 10:00:00\nu1,t1,2025-06-22 18:00:00\n`),
    ]);
    expect(run.kpis.genreStats[0]).toMatchObject({
      listenCount: 2,
      uniqueListeners: 1,
      totalListeningTimeMs: 360000,
    });
  });

  it("drops rows with unknown tracks or users and keeps every listen date of a file", async () => {
    const run = await kpis([
      memoryFile(
        "s.csv",
        `${STREAMS_HEADER}u1,t1,2025-06-22 10:00:00\nu2,t2,2025-06-23T01:00:00+02:00\nu1,t2,2025-06-24 09:00:00\n${Array.from({ length: 20 }, (_, i) => `u1,t1,2025-06-22 11:00:${String(i).padStart(2, "0")}\n`).join("")}u9,t1,2025-06-22 10:00:00\nu1,t9,2025-06-22 10:00:00\n`,
      ),
    ]);
    const file = run.files.at(-1);
    expect(file?.badRowsByCode).toEqual({ unknown_user: 1, unknown_track: 1 });
    expect(run.kpis.genreStats.map((g) => [g.listenDate, g.genre, g.listenCount])).toEqual([
      ["2025-06-22", "Pop", 21],
      ["2025-06-22", "Rock", 1],
      ["2025-06-24", "Rock", 1],
    ]);
  });

  it("lets the first occurrence of a track_id win, files in key order", async () => {
    const songs = [
      memoryFile("songs-b.csv", "track_id,track_name,track_genre,duration_ms\nt1,From B,Jazz,1\n"),
      memoryFile(
        "songs-a.csv",
        "track_id,track_name,track_genre,duration_ms\nt1,From A,Pop,100\nt1,Later in A,Rock,5\nt2,Two,Rock,200\n",
      ),
    ];
    const run = await kpis([memoryFile("s.csv", `${STREAMS_HEADER}u1,t1,2025-06-22 10:00:00\n`)], songs);
    expect(run.kpis.topSongs[0]).toMatchObject({ genre: "Pop", trackName: "From A" });
    expect(run.kpis.genreStats[0]?.totalListeningTimeMs).toBe(100);
    expect(run.files.find((f) => f.file === "songs-a.csv")?.duplicateRows).toBe(1);
  });

  it("skips a bad song row, so a later valid row for the same id is the one kept", async () => {
    const good = "t2,Two,Rock,200\n".repeat(20);
    const songs = [
      memoryFile(
        "songs.csv",
        `track_id,track_name,track_genre,duration_ms\nt1,Bad,42,100\n${good}t1,Good,Pop,100\n`,
      ),
    ];
    const run = await kpis([memoryFile("s.csv", `${STREAMS_HEADER}u1,t1,2025-06-22 10:00:00\n`)], songs);
    expect(run.kpis.topSongs[0]).toMatchObject({ trackName: "Good", genre: "Pop" });
  });

  it("ignores the catalog rows of a rejected songs file", async () => {
    const songs = [
      memoryFile("a.csv", "track_id,track_name,track_genre,duration_ms\nt1,N,1,x\nt2,N,2,y\n"),
      memoryFile("b.csv", SONGS),
    ];
    const run = await kpis([memoryFile("s.csv", `${STREAMS_HEADER}u1,t1,2025-06-22 10:00:00\n`)], songs);
    expect(run.files[0]).toMatchObject({
      file: "a.csv",
      accepted: false,
      rejection: { code: "too_many_bad_rows" },
    });
    expect(run.kpis.topSongs[0]?.trackName).toBe("Song1");
  });

  it("discards everything of a streams file rejected for too many bad rows", async () => {
    const run = await kpis([
      memoryFile("bad.csv", `${STREAMS_HEADER}u1,t1,2025-06-22 10:00:00\nu1,t1,yesterday\n`),
      memoryFile("good.csv", `${STREAMS_HEADER}u2,t2,2025-06-22 10:00:00\n`),
    ]);
    expect(run.files.find((f) => f.file === "bad.csv")?.accepted).toBe(false);
    expect(run.kpis.genreStats.map((g) => g.genre)).toEqual(["Rock"]);
  });

  it("reads gzip files, BOMs, CRLF and reordered extra columns alike", async () => {
    const plain = `${STREAMS_HEADER}u1,t1,2025-06-22 10:00:00\nu2,t2,2025-06-22 10:01:00\n`;
    const reference = (await kpis([memoryFile("s.csv", plain)])).kpis;
    const variants = [
      gzipFile("s.csv.gz", plain, 5),
      memoryFile("bom.csv", `\ufeff${plain.replaceAll("\n", "\r\n")}`, 1),
      memoryFile(
        "cols.csv",
        'listen_time,extra,track_id,user_id\n2025-06-22 10:00:00,"a,b",t1,u1\n2025-06-22T10:01:00Z,,t2,u2\n',
      ),
    ];
    for (const file of variants) expect((await kpis([file])).kpis, file.name).toEqual(reference);
  });

  it("reports files in the order read: songs, users, then streams", async () => {
    const run = await kpis([memoryFile("s.csv", `${STREAMS_HEADER}u1,t1,2025-06-22 10:00:00\n`)]);
    expect(run.files.map((f) => [f.kind, f.file])).toEqual([
      ["songs", "songs.csv"],
      ["users", "users.csv"],
      ["streams", "s.csv"],
    ]);
  });
});
