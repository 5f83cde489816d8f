import { createHash } from "node:crypto";
import { createPipelineContext, type ObjectStore, runPending } from "@musicpipe/core";
import { describe, expect, it } from "vitest";
import { createFaultInjector, createMemoryObjectStore, createMemoryTables } from "../src/index.js";
import { HEADER, keys, SONGS, steppingClock, storedKpis, text, USERS } from "./pipeline-helpers.js";

const STREAMS: Record<string, string> = {
  "data/raw/streams/a.csv": `${HEADER}u1,t1,2025-06-22 10:00:00\nu2,t2,2025-06-22T23:30:00-02:00\n`,
  "data/raw/streams/b.csv": `${HEADER}u3,t3,2025-06-23 09:00:00\nu1,t1,2025-06-22 18:00:00\n`,
  "data/raw/streams/bad.csv": "user_id,listen_time\nu1,2025-06-22 10:00:00\n",
};

/** A fresh store with the inputs, and the pipeline over fault-injecting wrappers of every port. */
async function setup() {
  const objects = createMemoryObjectStore();
  const tables = createMemoryTables();
  await objects.put("data/raw/songs/songs.csv", SONGS);
  await objects.put("data/raw/users/users.csv", USERS);
  for (const [key, body] of Object.entries(STREAMS)) await objects.put(key, body);
  const faults = createFaultInjector();
  const clock = steppingClock();
  const context = () =>
    createPipelineContext({
      objects: faults.wrap("objects", objects),
      kpis: faults.wrap("kpis", tables.kpis),
      files: faults.wrap("files", tables.files),
      partials: faults.wrap("partials", tables.partials),
      days: faults.wrap("days", tables.days),
      clock,
    });
  return { objects, faults, context };
}

const sha = (s: string) => createHash("sha256").update(s).digest("hex");

/** Where each input's bytes ended up, by content hash. */
async function placements(objects: ObjectStore): Promise<Map<string, string[]>> {
  const found = new Map<string, string[]>();
  for (const prefix of ["data/raw/streams/", "data/archive/", "data/error/"]) {
    for (const key of await keys(objects, prefix)) {
      const h = sha(await text(objects, key));
      found.set(h, [...(found.get(h) ?? []), key]);
    }
  }
  return found;
}

describe("a pipeline run with a failure injected at every port call", () => {
  it("loses no file, leaves none in two places, and ends with the undisturbed KPIs", async () => {
    const clean = await setup();
    await runPending(clean.context());
    const calls = clean.faults.calls;
    const expected = await storedKpis(clean.context());
    expect(calls).toBeGreaterThan(50);
    expect(expected.genreStats.length).toBeGreaterThan(0);

    for (let failAt = 1; failAt <= calls; failAt++) {
      const run = await setup();
      run.faults.failAt = failAt;
      await runPending(run.context()).catch(() => undefined);
      expect(run.faults.calls, `call ${failAt} was reached`).toBeGreaterThanOrEqual(failAt);
      run.faults.failAt = undefined;
      for (let rerun = 0; rerun < 3; rerun++) {
        const summary = await runPending(run.context());
        if (summary.files.every((f) => f.outcome !== "failed")) break;
      }
      const where = await placements(run.objects);
      for (const [key, body] of Object.entries(STREAMS)) {
        const places = where.get(sha(body)) ?? [];
        expect(places, `failure at call ${failAt} (${run.faults.log[failAt - 1]}): ${key}`).toHaveLength(1);
        expect(places[0]!.startsWith(key.includes("bad") ? "data/error/" : "data/archive/")).toBe(true);
      }
      expect(
        await storedKpis(run.context()),
        `failure at call ${failAt} (${run.faults.log[failAt - 1]})`,
      ).toEqual(expected);
    }
  });
});
