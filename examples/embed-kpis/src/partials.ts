// Keep one partial per file, store it as JSON anywhere, and merge the partials of a day later.
import { Catalog, computeStreamsPartial, KpiAccumulator, type KpiSet } from "@musicpipe/core";

export async function partialOf(
  name: string,
  bytes: AsyncIterable<Uint8Array>,
  catalog: Catalog,
): Promise<string> {
  const { report, partial } = await computeStreamsPartial(bytes, name, catalog);
  if (!report.accepted) throw new Error(`${name}: ${report.rejection?.message}`);
  return JSON.stringify(partial.toState());
}

export function kpisOfDay(storedPartials: string[], listenDate: string): KpiSet {
  const parts = storedPartials.map((json) => KpiAccumulator.fromState(JSON.parse(json)).pick([listenDate]));
  return KpiAccumulator.merge(parts).finalize();
}

export function tinyCatalog(): Catalog {
  const catalog = new Catalog();
  catalog.addTrack({ trackId: "t1", name: "Song One", genre: "pop", durationMs: 180_000 });
  catalog.addUser("u1");
  catalog.addUser("u2");
  return catalog;
}
