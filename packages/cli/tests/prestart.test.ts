import { mkdir, mkdtemp, truncate, writeFile } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { threadsToPrestart } from "../src/prestart.js";

/** A raw layout whose files have the given sizes (sparse files: no bytes written). */
async function rootWith(sizes: { streams?: number[]; songs?: number; users?: number }): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "musicpipe-prestart-"));
  for (const kind of ["streams", "songs", "users"])
    await mkdir(join(root, "data/raw", kind), { recursive: true });
  const file = async (path: string, size: number) => {
    await writeFile(path, "");
    await truncate(path, size);
  };
  for (const [i, size] of (sizes.streams ?? []).entries())
    await file(join(root, `data/raw/streams/s${i}.csv`), size);
  if (sizes.songs !== undefined) await file(join(root, "data/raw/songs/songs.csv"), sizes.songs);
  if (sizes.users !== undefined) await file(join(root, "data/raw/users/users.csv"), sizes.users);
  return root;
}

const MB = 1024 * 1024;

describe("threadsToPrestart", () => {
  let small: string;
  let bigStreams: string;
  let bigCatalogs: string;
  beforeAll(async () => {
    small = await rootWith({ streams: [100, 2 * MB], songs: MB, users: MB });
    bigStreams = await rootWith({ streams: [100, 9 * MB], songs: MB, users: MB });
    bigCatalogs = await rootWith({ streams: [100], songs: 20 * MB, users: 13 * MB });
  });

  it("starts threads for a run when a streams file or the catalogs are big", () => {
    expect(threadsToPrestart(["run", "--root", bigStreams, "--workers", "3"])).toBe(3);
    expect(threadsToPrestart(["run", "--root", bigCatalogs, "--workers=2"])).toBe(2);
    expect(threadsToPrestart(["run", "--root", small, "--workers", "3"])).toBe(0);
  });

  it("starts one thread per core by default, and none when one worker is asked for", () => {
    const cores = availableParallelism();
    expect(threadsToPrestart(["run", "--root", bigStreams])).toBe(cores < 2 ? 0 : cores);
    expect(threadsToPrestart(["run", "--root", bigStreams, "--workers", "1"])).toBe(0);
    expect(threadsToPrestart(["kpis", "--root", small, "--workers", "1"])).toBe(0);
  });

  it("starts threads for kpis whatever the sizes (it always scans with them)", () => {
    expect(threadsToPrestart(["kpis", "--root", small, "--workers", "2"])).toBe(2);
  });

  it("starts none for help, other commands, the AWS target, a missing root or a bad count", () => {
    expect(threadsToPrestart(["run", "--root", bigStreams, "--help"])).toBe(0);
    expect(threadsToPrestart(["export", "--root", bigStreams])).toBe(0);
    expect(threadsToPrestart(["run", "--target", "aws", "--bucket", "b", "--workers", "2"])).toBe(0);
    expect(threadsToPrestart(["run", "--root", join(small, "nowhere"), "--workers", "2"])).toBe(0);
    expect(threadsToPrestart(["run", "--root", bigStreams, "--workers", "many"])).toBe(0);
    expect(threadsToPrestart([])).toBe(0);
  });
});
