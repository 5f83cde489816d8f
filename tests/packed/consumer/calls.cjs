// Calls one function of every entry point of the published packages, loaded by `load`: the
// ESM consumer passes `import`, the CommonJS one `require`. Each call's result is returned,
// so the check compares what both module systems computed.
"use strict";

const os = require("node:os");
const path = require("node:path");
const fs = require("node:fs");

const file = (name, text) => ({ name, open: () => [Buffer.from(text)] });
const SONGS = "track_id,track_name,track_genre,duration_ms\nt1,Song,pop,180000\n";
const USERS = "user_id,user_name\nu1,Ann\n";
const STREAMS = "user_id,track_id,listen_time\nu1,t1,2025-06-22 10:00:00\n";

/** A DynamoDB document client that takes every write (what `batchWriteAll` sends to). */
const acceptingClient = () => {
  const sent = [];
  return {
    sent,
    send: async (command) => {
      sent.push(command);
      return { UnprocessedItems: {} };
    },
  };
};

async function callEverySubpath(load) {
  const results = {};
  const core = await load("@musicpipe/core");
  const memory = await load("@musicpipe/memory");
  const input = {
    streams: [file("s.csv", STREAMS)],
    songs: [file("songs.csv", SONGS)],
    users: [file("u.csv", USERS)],
  };
  results["@musicpipe/core computeKpis"] = (await core.computeKpis(input)).kpis.topGenres;

  // runPending through the memory adapters: p-limit and the stages, end to end.
  const objects = memory.createMemoryObjectStore();
  const put = (key, text) => objects.put(key, Buffer.from(text));
  await put("data/raw/songs/songs.csv", SONGS);
  await put("data/raw/users/users.csv", USERS);
  await put("data/raw/streams/s.csv", STREAMS);
  const ctx = core.createPipelineContext({ objects, ...memory.createMemoryTables() });
  const summary = await core.runPending(ctx);
  results["@musicpipe/core runPending"] = summary.files.map((f) => [f.fileKey, f.outcome]);

  const parallel = await load("@musicpipe/core/parallel");
  results["@musicpipe/core/parallel computeKpisParallel"] = (
    await parallel.computeKpisParallel(input, { threads: 1 })
  ).kpis.topGenres;
  const prestart = await load("@musicpipe/core/parallel/prestart");
  results["@musicpipe/core/parallel/prestart prestartWorkers"] = prestart.prestartWorkers(0) ?? null;

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "musicpipe-consumer-"));
  try {
    const local = await load("@musicpipe/memory/local");
    const store = local.createLocalObjectStore({ root: dir });
    await store.put("a/b.csv", Buffer.from("x\n"));
    const keys = [];
    for await (const info of store.list("a/")) keys.push(info.key);
    results["@musicpipe/memory/local createLocalObjectStore"] = keys;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const conformance = await load("@musicpipe/memory/conformance");
  results["@musicpipe/memory/conformance"] = typeof conformance.runObjectStoreConformance;

  for (const name of ["@musicpipe/aws", "@musicpipe/aws/dynamodb"]) {
    const aws = await load(name);
    const client = acceptingClient();
    await aws.batchWriteAll(client, { T: [{ PutRequest: { Item: { id: "1" } } }] }, { timeBudgetMs: 1000 });
    results[`${name} batchWriteAll`] = client.sent.length;
  }
  const s3 = await load("@musicpipe/aws/s3");
  const s3Client = { send: async () => ({ Contents: [{ Key: "p/a.csv", ETag: '"e"', Size: 2 }] }) };
  const listed = [];
  for await (const info of s3.createS3ObjectStore({ bucket: "b", client: s3Client }).list("p/"))
    listed.push(info.key);
  results["@musicpipe/aws/s3 createS3ObjectStore"] = listed;
  const airflow = await load("@musicpipe/aws/airflow");
  results["@musicpipe/aws/airflow mwaaTriggerCommand"] = airflow.mwaaTriggerCommand("d", "r", { k: "v" });
  const lambda = await load("@musicpipe/aws/lambda");
  results["@musicpipe/aws/lambda parseStageEvent"] = lambda.parseStageEvent({
    stage: "validate",
    bucket: "b",
    key: "data/raw/streams/s.csv",
  });
  const sns = await load("@musicpipe/aws/sns");
  results["@musicpipe/aws/sns noticeSubject"] = sns.noticeSubject("musicpipe", {
    fileKey: "data/raw/streams/s.csv",
    stage: "validate",
    code: "bad",
    message: "m",
  });
  const metrics = await load("@musicpipe/aws/metrics");
  const emf = metrics.createEmfMetrics({
    namespace: "Consumer",
    write: (line) =>
      (results["@musicpipe/aws/metrics createEmfMetrics"] =
        JSON.parse(line)._aws.CloudWatchMetrics[0].Namespace),
  });
  emf.count("Rows", 1);
  await emf.flush();
  const cli = await load("@musicpipe/cli");
  let out = "";
  const code = await cli.main(["--version"], { stdout: (t) => (out += t), stderr: () => {} });
  results["@musicpipe/cli main"] = [code, out.trim()];
  return results;
}

module.exports = { callEverySubpath };
