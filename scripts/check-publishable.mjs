#!/usr/bin/env node
// Refuses to publish a package whose manifest lacks what a published package carries: run by
// each package's `prepublishOnly` (`npm publish` / `pnpm publish` run it from the package's
// folder), and by hand as `node scripts/check-publishable.mjs packages/core`.
//
// `repository` and `homepage` are left out of the manifests until the project has a public
// home to point them at; this check makes sure no package is published without them.
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * What is missing from a package manifest (and its folder's files) for publishing: an empty
 * list when nothing is.
 * @param {Record<string, unknown>} manifest the parsed package.json
 * @param {(name: string) => boolean} hasFile whether the package folder holds that file
 * @returns {string[]}
 */
export function publishProblems(manifest, hasFile) {
  const problems = [];
  const text = (key) => typeof manifest[key] === "string" && manifest[key].trim() !== "";
  for (const key of ["name", "version", "description", "license", "homepage"]) {
    if (!text(key)) problems.push(`'${key}' is missing`);
  }
  const repo = manifest.repository;
  const repoUrl = typeof repo === "string" ? repo : repo?.url;
  if (typeof repoUrl !== "string" || repoUrl.trim() === "") problems.push("'repository' is missing");
  else if (typeof repo === "object" && typeof repo.directory !== "string") {
    problems.push("'repository.directory' is missing (the package's folder in the repository)");
  }
  if (!Array.isArray(manifest.keywords) || manifest.keywords.length === 0)
    problems.push("'keywords' is missing");
  if (typeof manifest.sideEffects !== "boolean" && !Array.isArray(manifest.sideEffects)) {
    problems.push("'sideEffects' is missing");
  }
  if (!Array.isArray(manifest.files) || manifest.files.length === 0) problems.push("'files' is missing");
  if (manifest.private === true) problems.push("the package is private");
  for (const file of ["README.md", "LICENSE"]) if (!hasFile(file)) problems.push(`${file} is missing`);
  return problems;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const folder = resolve(process.argv[2] ?? ".");
  const manifest = JSON.parse(readFileSync(join(folder, "package.json"), "utf8"));
  const problems = publishProblems(manifest, (name) => existsSync(join(folder, name)));
  if (problems.length > 0) {
    process.stderr.write(`${manifest.name ?? folder} cannot be published: ${problems.join("; ")}\n`);
    process.exit(1);
  }
}
