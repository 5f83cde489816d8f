import { Buffer } from "node:buffer";
import { STRUCTURAL_WASM } from "./structural-wasm.js";

/** WebAssembly pages are 64 KiB. */
const PAGE = 65536;

/** What this module uses of the WebAssembly API (the project's TypeScript libraries do not declare it). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { readonly exports: Record<string, unknown> };
}

/**
 * Finds where the bytes `,` `\n` `"` and `\r` of a buffer are, sixteen bytes a step, with a
 * small WebAssembly SIMD module (`structural.wat`): the CSV readers then go from one such
 * byte to the next instead of looking at every byte. One per thread (see
 * {@link structuralScanner}); the positions a call returns are valid until its next call.
 */
export class StructuralScanner {
  readonly #memory: WasmMemory;
  readonly #scan: (src: number, len: number, out: number, special: number) => number;

  private constructor(exports: Record<string, unknown>) {
    this.#memory = exports.memory as WasmMemory;
    this.#scan = exports.scan as (src: number, len: number, out: number, special: number) => number;
  }

  /** A scanner, or `undefined` where WebAssembly SIMD is not available. */
  static create(): StructuralScanner | undefined {
    const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
    if (wasm === undefined) return undefined;
    const bytes = Buffer.from(STRUCTURAL_WASM, "base64");
    if (!wasm.validate(bytes)) return undefined;
    return new StructuralScanner(new wasm.Instance(new wasm.Module(bytes)).exports);
  }

  /** The bytes of the module's memory (it grows to fit the largest buffer scanned, about 9 bytes a byte). */
  get memoryBytes(): number {
    return this.#memory.buffer.byteLength;
  }

  /**
   * The offsets in `buf` of its structural bytes, ascending (`positions`), and the indexes in
   * `positions` of those that are not commas (`specials`): a line with no quote is the commas
   * between two line breaks.
   */
  scan(buf: Uint8Array): StructuralBytes {
    const length = buf.length;
    // The bytes at 0, 15 bytes of room after them (read, not counted), the positions (at most
    // one per byte), the count of specials, then the specials.
    const out = (length + 16 + 3) & ~3;
    const special = out + 4 * length + 4;
    const needed = special + 4 * length;
    const have = this.#memory.buffer.byteLength;
    if (needed > have) this.#memory.grow(Math.ceil((needed - have) / PAGE));
    const memory = this.#memory.buffer;
    new Uint8Array(memory, 0, length).set(buf);
    const count = this.#scan(0, length, out, special);
    const specialCount = new Int32Array(memory, special - 4, 1)[0]!;
    return {
      positions: new Int32Array(memory, out, count),
      specials: new Int32Array(memory, special, specialCount),
    };
  }
}

/** What {@link StructuralScanner.scan} found. */
export interface StructuralBytes {
  readonly positions: Int32Array;
  readonly specials: Int32Array;
}

let shared: StructuralScanner | null | undefined;

/** This thread's scanner (made on first use), or `undefined` without WebAssembly SIMD or when turned off. */
export function structuralScanner(): StructuralScanner | undefined {
  if (shared === undefined) shared = StructuralScanner.create() ?? null;
  return shared ?? undefined;
}

/**
 * Turns the scanner off (`false`: the readers look at every byte, as where WebAssembly SIMD
 * is missing) or on again. For tests of both lanes.
 */
export function useStructuralScanner(enabled: boolean): void {
  shared = enabled ? undefined : null;
}
