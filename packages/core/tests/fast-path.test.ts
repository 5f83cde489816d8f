import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CatalogIndex,
  computeKpis,
  FastPathUnsupported,
  KpiAccumulator,
  type KpiPartialState,
  loadCatalog,
  scanStreamsFast,
} from "../src/index.js";
import { gzipFile, memoryFile } from "./helpers.js";

const SONGS = `track_id,track_name,track_genre,duration_ms,artists
t1,One,pop,1000,A
t2,Two,rock,2000,B
t3,Three,pop,3000,C
t4,Four,jazz,4000,D
té,Accent,métal,5000,E
t😀,Emoji,🎸,6000,F
 t5,Spaced,pop,7000,G
`;
const USERS = "user_id,user_name\nu1,a\nu2,b\nu3,c\nü,d\nu😀,e\n u4,f\n";

const TIMES = [
  "2025-06-22 10:00:00",
  "2025-06-22T10:00:00",
  "2025-06-22t10:00:00Z",
  "2025-06-22T12:00:00+02:00",
  "2025-06-22T23:30:00-02:00",
  "2025-06-23 00:00:00",
  "2025-06-22 10:00:00.000",
  "2025-06-22 10:00:00.5",
  "2025-06-22 10:00:00.50",
  " 2025-06-22 10:00:00 ",
  "1969-12-31 23:59:59",
  "1900-01-01 00:00:00",
  "2024-02-29 12:00:00",
  "2025-02-29 12:00:00",
  "2025-06-22 24:00:00",
  "2025-06-22 10:00",
  "2025-12-1x 00:00:00",
  "2025-12-1 00:00:00\n",
  "garbage",
  "",
  "\u00a0",
  "2025-06-22 10:00:00\r",
];
const USER_IDS = ["u1", "u2", "u3", "ü", "u😀", " u4", "u9", "", "  ", "\u00a0", "u\r1"];
const TRACK_IDS = ["t1", "t2", "t3", "t4", "té", "t😀", " t5", "t9", "", "T1"];

const row = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.tuple(
      fc.constantFrom(...USER_IDS),
      fc.constantFrom(...TRACK_IDS),
      fc.constantFrom(...TIMES),
    ),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(["", "", ""], [" ", "", " "], ["x"], ["a", "b", "c", "d"], ["\u00a0", "", ""]),
  },
);

type DatasetValue = typeof dataset extends fc.Arbitrary<infer T> ? T : never;
const dataset = fc.record({
  rows: fc.array(row, { minLength: 1, maxLength: 80 }),
  duplicates: fc.array(fc.nat(), { maxLength: 10 }),
  crlf: fc.boolean(),
  bom: fc.boolean(),
  reorder: fc.boolean(),
  extra: fc.boolean(),
  blankLines: fc.array(fc.nat(), { maxLength: 3 }),
  trailingNewline: fc.boolean(),
  gzip: fc.boolean(),
  chunk: fc.constantFrom(1, 3, 7, 64, 4096),
  share: fc.constantFrom(0.1, 0.5, 1),
});

function streamsText(d: DatasetValue): string {
  const rows = [...d.rows];
  for (const i of d.duplicates) if (rows.length > 0) rows.push(rows[i % rows.length]!);
  const header = d.reorder ? ["listen_time", "track_id", "user_id"] : ["user_id", "track_id", "listen_time"];
  const order = d.reorder ? [2, 1, 0] : [0, 1, 2];
  const lines = rows.map((r: readonly string[]) => {
    const fields = r.length === 3 ? order.map((i) => r[i]!) : r;
    return (d.extra && r.length === 3 ? [...fields, "x"] : fields).join(",");
  });
  for (const i of d.blankLines) lines.splice(i % (lines.length + 1), 0, "");
  const eol = d.crlf ? "\r\n" : "\n";
  const head = (d.extra ? [...header, "device"] : header).join(",");
  return `${d.bom ? "\ufeff" : ""}${[head, ...lines].join(eol)}${d.trailingNewline ? eol : ""}`;
}

describe("the fast row source", () => {
  it("gives the same reports (codes, counts, issues) and KPIs as the general reader", async () => {
    let fastUsed = 0;
    await fc.assert(
      fc.asyncProperty(dataset, async (d) => {
        const text = streamsText(d);
        const file = d.gzip ? gzipFile("s.csv.gz", text, d.chunk) : memoryFile("s.csv", text, d.chunk);
        const input = {
          streams: [file],
          songs: [memoryFile("songs.csv", SONGS)],
          users: [memoryFile("users.csv", USERS)],
        };
        const general = await computeKpis(input, { fastPath: false, maxBadRowShare: d.share });
        const fast = await computeKpis(input, { maxBadRowShare: d.share });
        expect(fast.files).toEqual(general.files);
        expect(fast.kpis).toEqual(general.kpis);
        expect(fast.partial.toState()).toEqual(general.partial.toState());
        const { catalog } = await loadCatalog(input);
        const used = await scanStreamsFast(await file.open(), file.name, new CatalogIndex(catalog), {
          maxBadRowShare: d.share,
        }).then(
          () => true,
          (err) => {
            if (!(err instanceof FastPathUnsupported)) throw err;
            return false;
          },
        );
        if (used) fastUsed++;
      }),
      { numRuns: Number(process.env.MUSICPIPE_PROPERTY_RUNS ?? 300) },
    );
    // Most generated files have no quotes and a clean header: the fast path must have run.
    expect(fastUsed).toBeGreaterThan(250);
  });

  it("reads ahead without the index and counts the same once it comes, wherever it comes", async () => {
    let compared = 0;
    await fc.assert(
      fc.asyncProperty(dataset, fc.nat({ max: 40 }), async (d, arrivesAfter) => {
        const text = streamsText(d);
        const file = d.gzip ? gzipFile("s.csv.gz", text, d.chunk) : memoryFile("s.csv", text, d.chunk);
        const { catalog } = await loadCatalog({
          songs: [memoryFile("songs.csv", SONGS)],
          users: [memoryFile("users.csv", USERS)],
        });
        const index = new CatalogIndex(catalog);
        const options = { maxBadRowShare: d.share };
        const outcome = (scan: Promise<{ report: unknown; compact: { toState(): KpiPartialState } }>) =>
          scan.then(
            (r) => ({ report: r.report, partial: KpiAccumulator.fromState(r.compact.toState()) }),
            (err) => {
              if (!(err instanceof FastPathUnsupported)) throw err;
              return "unsupported";
            },
          );
        const direct = await outcome(scanStreamsFast(await file.open(), file.name, index, options));
        // The index arrives after `arrivesAfter` chunks have been read (or after the end).
        let chunks = 0;
        let arrive: (value: CatalogIndex) => void = () => {};
        const later = new Promise<CatalogIndex>((resolve) => {
          arrive = resolve;
        });
        const source = await file.open();
        async function* counting() {
          for await (const chunk of source as AsyncIterable<Uint8Array>) {
            if (++chunks > arrivesAfter) arrive(index);
            yield chunk;
          }
          arrive(index);
        }
        const deferred = await outcome(scanStreamsFast(counting(), file.name, later, options));
        expect(deferred).toEqual(direct);
        if (direct !== "unsupported") compared++;
      }),
      { numRuns: Number(process.env.MUSICPIPE_PROPERTY_RUNS ?? 300) },
    );
    expect(compared).toBeGreaterThan(200);
  });

  it("hands files with quoted fields to the general reader", async () => {
    const { catalog } = await loadCatalog({
      songs: [memoryFile("s.csv", SONGS)],
      users: [memoryFile("u.csv", USERS)],
    });
    const quoted = memoryFile("q.csv", 'user_id,track_id,listen_time\n"u1",t1,2025-06-22 10:00:00\n');
    await expect(
      scanStreamsFast(await quoted.open(), "q.csv", new CatalogIndex(catalog)),
    ).rejects.toBeInstanceOf(FastPathUnsupported);
    const run = await computeKpis({
      streams: [quoted],
      songs: [memoryFile("s.csv", SONGS)],
      users: [memoryFile("u.csv", USERS)],
    });
    expect(run.kpis.genreStats[0]?.listenCount).toBe(1);
  });
});
