import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compiledModule, moduleFile } from "../../../scripts/build-wasm.mjs";
import { StructuralScanner } from "../src/fast/structural.js";
import { STRUCTURAL_WASM } from "../src/fast/structural-wasm.js";

/** Where `,` `\n` `"` `\r` are, one byte at a time. */
function reference(bytes: Uint8Array): number[] {
  const at: number[] = [];
  for (let i = 0; i < bytes.length; i++) if ([44, 10, 34, 13].includes(bytes[i]!)) at.push(i);
  return at;
}

describe("the structural-byte scanner", () => {
  it("is the module structural.wat compiles to", async () => {
    const bytes = await compiledModule();
    expect(Buffer.from(STRUCTURAL_WASM, "base64").equals(bytes)).toBe(true);
    expect(moduleFile(bytes)).toContain(STRUCTURAL_WASM);
  });

  it("finds every comma, line break, quote and CR, in order, in views at any offset", () => {
    const scanner = StructuralScanner.create()!;
    expect(scanner).toBeDefined();
    const byte = fc.oneof(fc.constantFrom(44, 10, 34, 13, 0, 255, 32), fc.integer({ min: 0, max: 255 }));
    fc.assert(
      fc.property(fc.array(byte, { maxLength: 300 }), fc.nat(17), fc.nat(17), (values, lead, trail) => {
        const whole = new Uint8Array(lead + values.length + trail).fill(44);
        whole.set(values, lead);
        const view = whole.subarray(lead, lead + values.length);
        const { positions } = scanner.scan(view);
        expect([...positions]).toEqual(reference(view));
      }),
      { numRuns: 500 },
    );
  });

  it("grows its memory for a buffer larger than the last, and keeps answering right after", () => {
    const scanner = StructuralScanner.create()!;
    const small = new TextEncoder().encode('a,b\n"c"\r\n');
    expect([...scanner.scan(small).positions]).toEqual(reference(small));
    const large = new Uint8Array(3 * 1024 * 1024 + 5);
    for (let i = 0; i < large.length; i++) large[i] = i % 7 === 0 ? 44 : i % 1001 === 0 ? 10 : 97;
    const { positions } = scanner.scan(large);
    const count = positions.length;
    const expected = reference(large);
    expect(count).toBe(expected.length);
    expect(positions[0]).toBe(expected[0]);
    expect(positions[count - 1]).toBe(expected.at(-1));
    expect([...positions].every((p, i) => p === expected[i])).toBe(true);
    expect([...scanner.scan(small).positions]).toEqual(reference(small));
  });
});
