// The deployable artefact: one ESM file importing nothing but Node built-ins, of a deployable
// size. Skipped until `pnpm build` has made dist/index.mjs.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { isBuiltin } from "node:module";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const dist = fileURLToPath(new URL("../dist/", import.meta.url));
const bundle = `${dist}index.mjs`;
const built = existsSync(bundle);

describe("the lambda-trigger bundle", () => {
  it.skipIf(!built)("is one ESM file that imports only Node built-ins", () => {
    expect(readdirSync(dist)).toEqual(["index.mjs"]);
    const code = readFileSync(bundle, "utf8");
    const specifiers = [
      ...code.matchAll(/^import\s[^;]*?\sfrom\s*"([^"]+)"/gm),
      ...code.matchAll(/^import\s*"([^"]+)"/gm),
      ...code.matchAll(/\brequire\("([^"]+)"\)/g),
      ...code.matchAll(/\bimport\("([^"]+)"\)/g),
    ].map((m) => m[1] as string);
    expect(specifiers.length).toBeGreaterThan(0);
    for (const specifier of specifiers) expect(isBuiltin(specifier), specifier).toBe(true);
  });

  it.skipIf(!built)("stays small enough to deploy as a single file (under 2 MB)", () => {
    expect(statSync(bundle).size).toBeLessThan(2 * 1024 * 1024);
  });
});
