import pkg from "../package.json" with { type: "json" };

/** The version of `@musicpipe/cli`, from its package.json (inlined at build time). */
export const VERSION: string = pkg.version;
