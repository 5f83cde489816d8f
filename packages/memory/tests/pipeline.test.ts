import {
  archiveStage,
  computeKpis,
  type InputFile,
  loadStage,
  runFile,
  runPending,
  StageOrderError,
  transformStage,
  validateStage,
} from "@musicpipe/core";
import { describe, expect, it } from "vitest";
import { HEADER, keys, memoryPipeline, SONGS, storedKpis, text, USERS } from "./pipeline-helpers.js";

const A = `${HEADER}u1,t1,2025-06-22 10:00:00\nu2,t1,2025-06-22 11:00:00\nu2,t2,2025-06-23T01:00:00+02:00\nu3,t3,2025-06-23 09:00:00\n`;
const B = `${HEADER}u3,t1,2025-06-22 12:00:00\nu1,t4,2025-06-23 10:00:00\nu1,t4,2025-06-23 10:00:00\n`;
const INVALID = "user_id,listen_time\nu1,2025-06-22 10:00:00\n";

const mem = (name: string, content: string): InputFile => ({ name, open: () => [Buffer.from(content)] });

/** The KPIs a stateless batch computation gives over these streams files. */
async function batch(...streams: string[]) {
  const run = await computeKpis({
    streams: streams.map((s, i) => mem(`s${i}.csv`, s)),
    songs: [mem("songs.csv", SONGS)],
    users: [mem("users.csv", USERS)],
  });
  return run.kpis;
}

describe("runPending", () => {
  it("archives valid files, moves invalid ones to the error prefix and stores exact KPIs", async () => {
    const p = await memoryPipeline();
    await p.objects.put("data/raw/streams/a.csv", A);
    await p.objects.put("data/raw/streams/b.csv", B);
    await p.objects.put("data/raw/streams/bad.csv", INVALID);
    await p.objects.put("data/raw/streams/empty-header.csv", HEADER);
    const ctx = p.context();
    const summary = await runPending(ctx);

    expect(summary.files.map((f) => [f.fileKey, f.outcome])).toEqual([
      ["data/raw/streams/a.csv", "archived"],
      ["data/raw/streams/b.csv", "archived"],
      ["data/raw/streams/bad.csv", "rejected"],
      ["data/raw/streams/empty-header.csv", "rejected"],
    ]);
    expect(await keys(p.objects, "data/raw/streams/")).toEqual([]);
    const archived = await keys(p.objects, "data/archive/");
    expect(archived).toHaveLength(2);
    expect(
      archived.every((k) => /^data\/archive\/2026\/01\/15\/20260115T\d{9}Z_[0-9a-f]{12}_(a|b)\.csv$/.test(k)),
    ).toBe(true);
    expect(await Promise.all(archived.map((k) => text(p.objects, k)))).toEqual([A, B]);
    const errors = await keys(p.objects, "data/error/");
    expect(errors.map((k) => k.replace(/\d{8}T\d{9}Z_[0-9a-f]{12}/, "TS"))).toEqual([
      "data/error/TS_bad.csv",
      "data/error/TS_empty-header.csv",
    ]);
    expect(await storedKpis(ctx)).toEqual(await batch(A, B));
    expect(await keys(p.objects, "data/raw/songs/")).toEqual(["data/raw/songs/songs.csv"]);
    expect((await p.tables.files.get("data/raw/streams/bad.csv"))?.rejection?.code).toBe("missing_column");
    expect((await p.tables.files.get("data/raw/streams/empty-header.csv"))?.rejection?.code).toBe(
      "header_only",
    );
  });

  it("processes and reports files in code point order, as object stores list keys", async () => {
    // U+FF5E sorts before U+1F600 by code point (and UTF-8 bytes), after it by UTF-16 unit.
    const names = ["data/raw/streams/\u{1F600}.csv", "data/raw/streams/\uFF5E.csv", "data/raw/streams/z.csv"];
    const p = await memoryPipeline();
    for (const key of names) await p.objects.put(key, INVALID);
    const seen: string[] = [];
    const summary = await runPending(p.context(), { onFile: (o) => seen.push(o.fileKey) });
    const expected = [
      "data/raw/streams/z.csv",
      "data/raw/streams/\uFF5E.csv",
      "data/raw/streams/\u{1F600}.csv",
    ];
    expect(seen).toEqual(expected);
    expect(summary.files.map((f) => f.fileKey)).toEqual(expected);
  });

  it("writes each touched date's KPIs as JSON Lines under data/kpis/YYYY/MM/DD/", async () => {
    const p = await memoryPipeline();
    await p.objects.put("data/raw/streams/a.csv", A);
    await runPending(p.context());
    expect(await keys(p.objects, "data/kpis/")).toEqual([
      "data/kpis/2025/06/22/genre_stats.jsonl",
      "data/kpis/2025/06/22/top_genres.jsonl",
      "data/kpis/2025/06/22/top_songs.jsonl",
      "data/kpis/2025/06/23/genre_stats.jsonl",
      "data/kpis/2025/06/23/top_genres.jsonl",
      "data/kpis/2025/06/23/top_songs.jsonl",
    ]);
    const lines = (await text(p.objects, "data/kpis/2025/06/23/top_genres.jsonl"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toEqual((await batch(A)).topGenres.filter((g) => g.listenDate === "2025-06-23"));
  });

  it("keeps KPIs cumulative: a day spread over files processed in separate runs equals one batch", async () => {
    const p = await memoryPipeline();
    await p.objects.put("data/raw/streams/a.csv", A);
    await runPending(p.context());
    await p.objects.put("data/raw/streams/b.csv", B);
    await runPending(p.context());
    expect(await storedKpis(p.context())).toEqual(await batch(A, B));
  });

  it("changes nothing when run again after success", async () => {
    const p = await memoryPipeline();
    await p.objects.put("data/raw/streams/a.csv", A);
    await runPending(p.context());
    const before = {
      records: await p.tables.files.get("data/raw/streams/a.csv"),
      day: await p.tables.kpis.getDay("2025-06-22"),
      archive: await keys(p.objects, "data/"),
    };
    const again = await runPending(p.context());
    expect(again.files).toEqual([]);
    expect(await p.tables.files.get("data/raw/streams/a.csv")).toEqual(before.records);
    expect(await p.tables.kpis.getDay("2025-06-22")).toEqual(before.day);
    expect(await keys(p.objects, "data/")).toEqual(before.archive);
  });

  it("counts the same bytes once whatever their key", async () => {
    const p = await memoryPipeline();
    await p.objects.put("data/raw/streams/a.csv", A);
    await p.objects.put("data/raw/streams/copy-of-a.csv", A);
    const summary = await runPending(p.context());
    expect(summary.files.map((f) => f.outcome)).toEqual(["archived", "archived"]);
    expect(await storedKpis(p.context())).toEqual(await batch(A));
  });

  it("treats a new upload to an archived key as a new delivery: archived again, same content counted once", async () => {
    const p = await memoryPipeline();
    await p.objects.put("data/raw/streams/a.csv", A);
    await runPending(p.context());
    await p.objects.put("data/raw/streams/a.csv", A);
    const summary = await runPending(p.context());
    expect(summary.files.map((f) => f.outcome)).toEqual(["archived"]);
    expect((await p.tables.files.get("data/raw/streams/a.csv"))?.deliveries).toBe(2);
    expect(await keys(p.objects, "data/archive/")).toHaveLength(2);
    expect(await storedKpis(p.context())).toEqual(await batch(A));

    await p.objects.put("data/raw/streams/a.csv", B);
    await runPending(p.context());
    expect((await p.tables.files.get("data/raw/streams/a.csv"))?.deliveries).toBe(3);
    expect(await storedKpis(p.context())).toEqual(await batch(A, B));
  });

  it("does not double-count when two runs process the same files at once", async () => {
    const p = await memoryPipeline();
    await p.objects.put("data/raw/streams/a.csv", A);
    await p.objects.put("data/raw/streams/b.csv", B);
    await Promise.allSettled([runPending(p.context()), runPending(p.context())]);
    await runPending(p.context()); // finish whatever the race left
    expect(await keys(p.objects, "data/raw/streams/")).toEqual([]);
    expect(await keys(p.objects, "data/archive/")).toHaveLength(2);
    expect(await storedKpis(p.context())).toEqual(await batch(A, B));
  });

  it("reads rejected catalog files as nothing, and reports them", async () => {
    const p = await memoryPipeline();
    await p.objects.put("data/raw/songs/broken.csv", "track_id,track_name\nt9,x\n");
    await p.objects.put("data/raw/streams/a.csv", A);
    const summary = await runPending(p.context());
    expect(summary.catalogFiles.find((f) => f.file === "data/raw/songs/broken.csv")?.rejection?.code).toBe(
      "missing_column",
    );
    expect(await storedKpis(p.context())).toEqual(await batch(A));
  });
});

describe("the stages one by one", () => {
  it("return small results an orchestrator can pass on, in order", async () => {
    const p = await memoryPipeline();
    const key = "data/raw/streams/a.csv";
    await p.objects.put(key, A);
    const ctx = p.context();
    await expect(transformStage(ctx, key)).rejects.toBeInstanceOf(StageOrderError);
    const v = await validateStage(ctx, key);
    expect(v).toMatchObject({
      stage: "validate",
      status: "SUCCESS",
      listenDates: ["2025-06-22", "2025-06-23"],
      rowCounts: { read: 4, kept: 4 },
    });
    expect(v.contentSha256).toMatch(/^[0-9a-f]{64}$/);
    await expect(archiveStage(ctx, key)).rejects.toBeInstanceOf(StageOrderError);
    expect((await transformStage(ctx, key)).status).toBe("SUCCESS");
    expect((await loadStage(ctx, key)).status).toBe("SUCCESS");
    const a = await archiveStage(ctx, key);
    expect(a.movedTo).toMatch(/^data\/archive\/2026\/01\/15\/.*_a\.csv$/);
    expect(JSON.parse(JSON.stringify(a))).toEqual(a);
    // Every stage again: nothing changes, all report success.
    const again = await runFile(p.context(), key);
    expect(again.map((r) => r.status)).toEqual(["SUCCESS", "SUCCESS", "SUCCESS", "SUCCESS"]);
    expect(await keys(p.objects, "data/archive/")).toHaveLength(1);
  });

  it("validation of a rejected file reports FAILED with the reason and the error key", async () => {
    const p = await memoryPipeline();
    await p.objects.put("data/raw/streams/bad.csv", INVALID);
    const v = await validateStage(p.context(), "data/raw/streams/bad.csv");
    expect(v).toMatchObject({
      status: "FAILED",
      rejection: { code: "missing_column", columns: ["track_id"] },
    });
    expect(v.movedTo).toMatch(/^data\/error\/\d{8}T\d{9}Z_[0-9a-f]{12}_bad\.csv$/);
    expect((await transformStage(p.context(), "data/raw/streams/bad.csv")).status).toBe("SKIPPED");
  });

  it("notifies about a rejected file", async () => {
    const notices: unknown[] = [];
    const p = await memoryPipeline({
      notifier: { notify: async (n) => void notices.push(n) },
      runId: "run-1",
    });
    await p.objects.put("data/raw/streams/bad.csv", INVALID);
    await runPending(p.context());
    expect(notices).toEqual([
      expect.objectContaining({
        fileKey: "data/raw/streams/bad.csv",
        stage: "validate",
        code: "missing_column",
        runId: "run-1",
      }),
    ]);
  });
});
