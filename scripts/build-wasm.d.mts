/** The module structural.wat compiles to. */
export function compiledModule(): Promise<Buffer>;
/** The text of structural-wasm.ts for those bytes. */
export function moduleFile(bytes: Buffer): string;
