import { describe, expect, it } from "vitest";
import { parseListenTime } from "../src/index.js";

describe("parseListenTime", () => {
  it.each([
    ["2025-06-22 10:00:00", "2025-06-22"],
    ["2025-06-22T10:00:00", "2025-06-22"],
    ["2025-06-22T10:00:00Z", "2025-06-22"],
    ["2025-06-22t10:00:00z", "2025-06-22"],
    ["2025-06-22 10:00", "2025-06-22"],
    ["2025-06-22T10:00:00.123456Z", "2025-06-22"],
    ["2025-06-22T10:00:00,5Z", "2025-06-22"],
    ["  2025-06-22 10:00:00  ", "2025-06-22"],
  ])("accepts %j on %s", (value, date) => {
    expect(parseListenTime(value)?.date).toBe(date);
  });

  it("gives the UTC date of times with offsets that cross midnight", () => {
    expect(parseListenTime("2025-06-22T23:30:00-02:00")?.date).toBe("2025-06-23");
    expect(parseListenTime("2025-06-23T01:15:00+05:30")?.date).toBe("2025-06-22");
    expect(parseListenTime("2025-06-23T01:15:00+0530")?.date).toBe("2025-06-22");
    expect(parseListenTime("2025-06-23T01:15:00+02")?.date).toBe("2025-06-22");
    expect(parseListenTime("2024-12-31T23:00:00-01:00")?.date).toBe("2025-01-01");
    expect(parseListenTime("2024-03-01T00:30:00+01:00")?.date).toBe("2024-02-29");
  });

  it("gives one instant to every spelling of the same moment", () => {
    const instants = [
      "2025-06-22 10:00:00",
      "2025-06-22T10:00:00Z",
      "2025-06-22T10:00:00.000Z",
      "2025-06-22T12:00:00+02:00",
      "2025-06-22T07:30:00-0230",
    ].map((v) => parseListenTime(v)?.instant);
    expect(new Set(instants).size).toBe(1);
    expect(parseListenTime("2025-06-22T10:00:00.1Z")?.instant).toBe(
      parseListenTime("2025-06-22T10:00:00.100Z")?.instant,
    );
    expect(parseListenTime("2025-06-22T10:00:00.1Z")?.instant).not.toBe(
      parseListenTime("2025-06-22T10:00:00.10001Z")?.instant,
    );
  });

  it("computes epoch milliseconds like Date.parse", () => {
    for (const v of [
      "2025-06-22T10:00:00.570Z",
      "1999-12-31T23:59:59.999+01:00",
      "2024-02-29T12:00:00-11:00",
    ]) {
      expect(parseListenTime(v)?.epochMs).toBe(Date.parse(v));
    }
  });

  it.each([
    "",
    "2025-06-22",
    "2025-02-30 10:00:00",
    "2023-02-29 10:00:00",
    "2025-13-01 10:00:00",
    "2025-06-22 24:00:00",
    "2025-06-22 10:60:00",
    "2025-06-22 10:00:60",
    "2025-06-22 10:00:00+24:00",
    "2025-06-22 10:00.5",
    "22/06/2025 10:00:00",
    "1750586400",
    "2025-06-22 10:00:00 UTC",
  ])("rejects %j", (value) => {
    expect(parseListenTime(value)).toBeUndefined();
  });
});
