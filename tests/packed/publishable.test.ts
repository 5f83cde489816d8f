// The check each package's prepublishOnly runs: what a manifest must carry to be published.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain JavaScript script without declarations
import { publishProblems } from "../../scripts/check-publishable.mjs";

const check = publishProblems as (
  manifest: Record<string, unknown>,
  hasFile: (name: string) => boolean,
) => string[];
const root = fileURLToPath(new URL("../..", import.meta.url));
const PACKAGES = ["core", "aws", "memory", "cli"];

const complete = {
  name: "@musicpipe/core",
  version: "1.0.0",
  description: "d",
  license: "MIT",
  homepage: "https://example.org/musicpipe",
  repository: { type: "git", url: "git+https://example.org/musicpipe.git", directory: "packages/core" },
  keywords: ["etl"],
  sideEffects: false,
  files: ["dist"],
};

describe("check-publishable", () => {
  it("passes a complete manifest with its README and LICENSE", () => {
    expect(check(complete, () => true)).toEqual([]);
  });

  it("names each thing missing", () => {
    const { repository: _r, homepage: _h, sideEffects: _s, ...rest } = complete;
    expect(check({ ...rest, private: true }, (name) => name !== "LICENSE")).toEqual([
      "'homepage' is missing",
      "'repository' is missing",
      "'sideEffects' is missing",
      "the package is private",
      "LICENSE is missing",
    ]);
    expect(check({ ...complete, repository: { url: "git+https://example.org/m.git" } }, () => true)).toEqual([
      "'repository.directory' is missing (the package's folder in the repository)",
    ]);
  });

  it.each(PACKAGES)("packages/%s runs it before publishing and lacks only its public home", (name) => {
    const folder = join(root, "packages", name);
    const manifest = JSON.parse(readFileSync(join(folder, "package.json"), "utf8"));
    expect(manifest.scripts.prepublishOnly).toBe("node ../../scripts/check-publishable.mjs");
    // Everything but the repository and homepage, which wait for a public URL.
    expect(check(manifest, (file) => existsSync(join(folder, file)))).toEqual([
      "'homepage' is missing",
      "'repository' is missing",
    ]);
  });
});
