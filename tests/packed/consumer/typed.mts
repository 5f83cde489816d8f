// Type-checked (nodenext, strict) as an ES module, and copied to typed.cts by the test to be
// type-checked as CommonJS: the declarations of the `import` and of the `require` conditions.

import { createStageHandler } from "@musicpipe/aws";
import { mwaaTriggerCommand } from "@musicpipe/aws/airflow";
import { batchWriteAll } from "@musicpipe/aws/dynamodb";
import { parseStageEvent } from "@musicpipe/aws/lambda";
import { createEmfMetrics } from "@musicpipe/aws/metrics";
import { createS3ObjectStore } from "@musicpipe/aws/s3";
import { noticeSubject } from "@musicpipe/aws/sns";
import { main } from "@musicpipe/cli";
import { computeKpis, createPipelineContext, type KpiSet, runPending } from "@musicpipe/core";
import { computeKpisParallel } from "@musicpipe/core/parallel";
import { prestartWorkers } from "@musicpipe/core/parallel/prestart";
import { createMemoryObjectStore, createMemoryTables } from "@musicpipe/memory";
import { runObjectStoreConformance } from "@musicpipe/memory/conformance";
import { createLocalObjectStore } from "@musicpipe/memory/local";

const file = (name: string, text: string) => ({ name, open: () => [Buffer.from(text)] });
const input = { streams: [file("s.csv", "")], songs: [file("songs.csv", "")], users: [file("u.csv", "")] };
const kpis: Promise<KpiSet> = computeKpis(input).then((r) => r.kpis);
const parallel: Promise<KpiSet> = computeKpisParallel(input, { threads: 1 }).then((r) => r.kpis);
prestartWorkers(0);
const summary = runPending(
  createPipelineContext({ objects: createMemoryObjectStore(), ...createMemoryTables() }),
);
const local = createLocalObjectStore({ root: "data" });
const suite: (options: Parameters<typeof runObjectStoreConformance>[0]) => void = runObjectStoreConformance;
const handler = typeof createStageHandler;
const s3 = createS3ObjectStore({ bucket: "b" });
const written: Promise<void> = batchWriteAll(
  { send: async () => ({ $metadata: {} }) },
  {},
  { timeBudgetMs: 1000 },
);
const command: string = mwaaTriggerCommand("dag", "run", {});
const stage: string = parseStageEvent({ stage: "validate", bucket: "b", key: "k" }).stage;
const subject: string = noticeSubject("p", { fileKey: "k", stage: "validate", code: "c", message: "m" });
createEmfMetrics({ namespace: "N" }).count("Rows", 1);
const exitCode: Promise<number> = main(["--version"]);

export { command, exitCode, handler, kpis, local, parallel, s3, stage, subject, suite, summary, written };
