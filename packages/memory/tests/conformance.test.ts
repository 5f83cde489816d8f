import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import {
  runDayStateStoreConformance,
  runFileStatusStoreConformance,
  runKpiStoreConformance,
  runObjectStoreConformance,
  runPartialStoreConformance,
} from "../src/conformance/index.js";
import {
  createLocalObjectStore,
  createLocalTables,
  createMemoryObjectStore,
  createMemoryTables,
} from "../src/index.js";

const folders: string[] = [];
async function tempFolder(): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), "musicpipe-conformance-"));
  folders.push(folder);
  return folder;
}
afterAll(async () => {
  await Promise.all(folders.map((folder) => rm(folder, { recursive: true, force: true })));
});

runObjectStoreConformance({
  name: "memory",
  create: () => createMemoryObjectStore(),
  capabilities: { contentEtag: true, rejectsUnsafeKeys: true, move: true },
});
runObjectStoreConformance({
  name: "local",
  create: async () => createLocalObjectStore({ root: await tempFolder() }),
  capabilities: { rejectsUnsafeKeys: true, move: true },
});

runKpiStoreConformance({ name: "memory", create: () => createMemoryTables().kpis });
runFileStatusStoreConformance({ name: "memory", create: () => createMemoryTables().files });
runPartialStoreConformance({ name: "memory", create: () => createMemoryTables().partials });
runDayStateStoreConformance({ name: "memory", create: () => createMemoryTables().days });

const localTables = async () => createLocalTables({ dir: join(await tempFolder(), ".musicpipe") });
runKpiStoreConformance({ name: "local", create: async () => (await localTables()).kpis });
runFileStatusStoreConformance({ name: "local", create: async () => (await localTables()).files });
runPartialStoreConformance({ name: "local", create: async () => (await localTables()).partials });
runDayStateStoreConformance({ name: "local", create: async () => (await localTables()).days });
