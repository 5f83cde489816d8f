import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// Every ```ts (or ```typescript) block of the manual (docs/*.md) and of the READMEs is a module
// that must compile: each is written to a scratch folder as its own .mts file, and all of them
// are type-checked in one TypeScript program (strict, nodenext). `@musicpipe/*` imports resolve
// to the packages' sources (the `paths` of tsconfig.json), so no build is needed; other packages
// (`@aws-sdk/*`, `zod`, `vitest`...) resolve as in a project that installed musicpipe and its
// peer dependencies: from the workspace packages' node_modules.
//
// The fence's info string may carry words after the language (docs/development.md):
// - `fragment`: an excerpt that cannot stand alone (a signature sketch); it is not checked.
// - `file=<path>`: the block quotes that repository file; its text must appear in the file
//   verbatim, and its relative imports resolve from the file's folder.

const repo = fileURLToPath(new URL("../..", import.meta.url));

interface Block {
  /** The Markdown file, relative to the repository. */
  readonly doc: string;
  /** 1-based line of the opening fence in the Markdown file. */
  readonly line: number;
  readonly code: string;
  readonly fragment: boolean;
  /** `file=` of the fence: the repository file the block quotes. */
  readonly quotes: string | undefined;
}

function markdownFiles(): string[] {
  const docs = readdirSync(join(repo, "docs"))
    .filter((name) => name.endsWith(".md"))
    .map((name) => `docs/${name}`);
  const readmes = readdirSync(join(repo, "packages"))
    .map((name) => `packages/${name}/README.md`)
    .filter((path) => existsSync(join(repo, path)));
  return [...docs.sort(), "README.md", ...readmes.sort()];
}

/** The fenced code blocks of `text` whose language is ts or typescript (fences may be indented, as in lists). */
function tsBlocks(doc: string, text: string): Block[] {
  const lines = text.split(/\r?\n/);
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})(.*)$/.exec(lines[i]!);
    if (open === null) continue;
    const [, indent = "", fence = "", info = ""] = open;
    const close = new RegExp(`^\\s*${fence[0] === "`" ? "`" : "~"}{${fence.length},}\\s*$`);
    let end = i + 1;
    while (end < lines.length && !close.test(lines[end]!)) end++;
    const [language = "", ...words] = info.trim().split(/\s+/);
    if (language === "ts" || language === "typescript") {
      const body = lines.slice(i + 1, end).map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l));
      blocks.push({
        doc,
        line: i + 1,
        code: `${body.join("\n")}\n`,
        fragment: words.includes("fragment"),
        quotes: words.find((w) => w.startsWith("file="))?.slice("file=".length),
      });
    }
    i = end;
  }
  return blocks;
}

const blocks = markdownFiles().flatMap((doc) => tsBlocks(doc, readFileSync(join(repo, doc), "utf8")));
const checked = blocks.filter((b) => !b.fragment);
const name = (b: Block) => `${b.doc}:${b.line}`;

/** The program's options: what a strict TypeScript project on Node.js uses. */
function compilerOptions(): ts.CompilerOptions {
  const config = ts.readConfigFile(join(repo, "tsconfig.json"), ts.sys.readFile);
  if (config.error !== undefined)
    throw new Error(ts.flattenDiagnosticMessageText(config.error.messageText, "\n"));
  const paths: Record<string, string[]> = config.config.compilerOptions.paths;
  return {
    strict: true,
    target: ts.ScriptTarget.ES2022,
    lib: ["lib.es2023.d.ts"],
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    moduleDetection: ts.ModuleDetectionKind.Force,
    noEmit: true,
    skipLibCheck: true,
    types: ["node"],
    typeRoots: [join(repo, "node_modules", "@types")],
    paths: Object.fromEntries(
      Object.entries(paths).map(([pattern, targets]) => [pattern, targets.map((t) => resolve(repo, t))]),
    ),
  };
}

/** Where a bare import of a block is looked up: projects that have musicpipe and its peers installed. */
const consumers = ["packages/aws", "packages/cli", "packages/memory", "packages/core", "."].map((dir) =>
  join(repo, dir, "docs-block.mts"),
);

let scratch = "";
/** The diagnostics of each checked block, as messages a doc writer can act on. */
const problems = new Map<Block, string[]>();
const globalProblems: string[] = [];

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), "musicpipe-docs-"));
  const byPath = new Map<string, Block>();
  for (const block of checked) {
    const path = join(scratch, `${block.doc.replace(/[/.]/g, "_")}_L${block.line}.mts`);
    writeFileSync(path, block.code);
    byPath.set(path, block);
  }
  const options = compilerOptions();
  const host = ts.createCompilerHost(options);
  const cache = ts.createModuleResolutionCache(repo, (f) => f, options);
  host.resolveModuleNameLiterals = (literals, containingFile, redirected, opts, containingSourceFile) =>
    literals.map((literal) => {
      const mode = ts.getModeForUsageLocation(containingSourceFile, literal, opts);
      const from = (file: string) =>
        ts.resolveModuleName(literal.text, file, opts, host, cache, redirected, mode);
      const direct = from(containingFile);
      const block = byPath.get(containingFile);
      if (direct.resolvedModule !== undefined || block === undefined) return direct;
      // A relative import resolves only next to the file the block quotes (file=).
      const quoted = block.quotes === undefined ? [] : [join(repo, block.quotes)];
      const bases = literal.text.startsWith(".") ? quoted : consumers;
      for (const base of bases) {
        const found = from(base);
        if (found.resolvedModule !== undefined) return found;
      }
      return direct;
    });
  const program = ts.createProgram({ rootNames: [...byPath.keys()], options, host });
  for (const d of [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()])
    globalProblems.push(`TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`);
  for (const [path, block] of byPath) {
    const source = program.getSourceFile(path)!;
    const diagnostics = [
      ...program.getSyntacticDiagnostics(source),
      ...program.getSemanticDiagnostics(source),
    ];
    problems.set(
      block,
      diagnostics.map((d) => {
        const { line, character } = source.getLineAndCharacterOfPosition(d.start ?? 0);
        const message = ts.flattenDiagnosticMessageText(d.messageText, "\n  ");
        const where = `${block.doc}:${block.line + 1 + line}:${character + 1}`;
        return `${where} (the ts block at line ${block.line}, its line ${line + 1}): TS${d.code}: ${message}`;
      }),
    );
  }
}, 120_000);

afterAll(() => {
  if (scratch !== "") rmSync(scratch, { recursive: true, force: true });
});

describe("the ts blocks of the docs", () => {
  it("are all found, and enough of them are checked", () => {
    // An independent count of the opening fences, so a parser that misses blocks fails here.
    const fences = markdownFiles().flatMap((doc) =>
      readFileSync(join(repo, doc), "utf8")
        .split("\n")
        .filter((line) => /^\s*(```|~~~)\s*(ts|typescript)(\s|$)/.test(line)),
    );
    expect(blocks.length).toBe(fences.length);
    expect(checked.length).toBeGreaterThanOrEqual(15);
    expect(new Set(checked.map((b) => b.doc)).size).toBeGreaterThanOrEqual(10);
  });

  it("have valid compiler options", () => {
    expect(globalProblems).toEqual([]);
  });

  it.each(checked.map((block) => [name(block), block] as const))("%s compiles", (_, block) => {
    expect(problems.get(block), `${name(block)} was not type-checked`).toBeDefined();
    expect(problems.get(block)).toEqual([]);
  });

  it.each(
    blocks.filter((b) => b.quotes !== undefined).map((block) => [name(block), block.quotes!, block] as const),
  )("%s is a verbatim quote of %s", (_, quotes, block) => {
    const path = join(repo, quotes);
    expect(existsSync(path), `${name(block)}: file=${quotes} does not exist`).toBe(true);
    expect(
      readFileSync(path, "utf8").includes(block.code),
      `${name(block)}: the block is not (any longer) a verbatim part of ${quotes}`,
    ).toBe(true);
  });
});
