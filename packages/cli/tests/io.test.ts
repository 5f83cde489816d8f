import { describe, expect, it } from "vitest";
import { n } from "../src/io.js";

describe("n (grouped digits in summaries)", () => {
  it("groups every integer as en-US does, at every length and sign", () => {
    const values = [0, 7, -7, 999, 1000, -1000, 12345, 999999, 1000000, 123456789, -987654321];
    for (let digits = 1; digits <= 16; digits++) values.push(Number("9".repeat(digits)), 10 ** (digits - 1));
    values.push(Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER);
    for (const value of values) expect(n(value)).toBe(value.toLocaleString("en-US"));
  });

  it("leaves what is not a safe integer to the locale formatter", () => {
    expect(n(1234.5)).toBe((1234.5).toLocaleString("en-US"));
    expect(n(2 ** 60)).toBe((2 ** 60).toLocaleString("en-US"));
  });
});
