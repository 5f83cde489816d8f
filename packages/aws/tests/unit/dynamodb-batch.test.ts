import type { BatchWriteCommand, BatchWriteCommandOutput } from "@aws-sdk/lib-dynamodb";
import { ConfigurationError, MusicpipeError } from "@musicpipe/core";
import { describe, expect, it } from "vitest";
import {
  BatchWriteIncompleteError,
  type BatchWriteRequest,
  type BatchWriteSender,
  batchWriteAll,
} from "../../src/dynamodb/index.js";
import { backoffDelay } from "../../src/dynamodb/retry.js";

type RequestItems = Record<string, BatchWriteRequest[]>;

/** What the stub answers to one call: the requests it leaves unprocessed, or an error to throw. */
type Answer = (call: number, items: RequestItems) => RequestItems | Error;

/** A document client stand-in that records every BatchWriteItem call and what it "wrote". */
function stubDoc(answer: Answer) {
  const calls: RequestItems[] = [];
  const written: string[] = [];
  const doc: BatchWriteSender = {
    async send(command: BatchWriteCommand): Promise<BatchWriteCommandOutput> {
      const items = structuredClone(command.input.RequestItems ?? {}) as RequestItems;
      calls.push(items);
      await new Promise((resolve) => setTimeout(resolve, 1));
      const result = answer(calls.length, items);
      if (result instanceof Error) throw result;
      const unprocessed = new Set(Object.values(result).flat().map(idOf));
      for (const request of Object.values(items).flat()) {
        if (!unprocessed.has(idOf(request))) written.push(idOf(request));
      }
      return { UnprocessedItems: result, $metadata: {} };
    },
  };
  return { doc, calls, written };
}

function idOf(request: BatchWriteRequest): string {
  const item = request.PutRequest?.Item ?? request.DeleteRequest?.Key ?? {};
  return String(item.id);
}

function puts(prefix: string, count: number): BatchWriteRequest[] {
  return Array.from({ length: count }, (_, i) => ({ PutRequest: { Item: { id: `${prefix}${i}`, n: i } } }));
}

function sizeOf(items: RequestItems): number {
  return Object.values(items).reduce((sum, list) => sum + list.length, 0);
}

/** Leaves the last `count` requests of every call unprocessed, for the first `times` calls. */
function leaveLast(count: number, times: number): Answer {
  return (call, items) => {
    if (call > times) return {};
    const left: RequestItems = {};
    let remaining = count;
    for (const [table, list] of Object.entries(items).reverse()) {
      const take = list.slice(Math.max(0, list.length - remaining));
      remaining -= take.length;
      if (take.length > 0) left[table] = take;
    }
    return left;
  };
}

function throttled(): Error {
  return Object.assign(new Error("Rate exceeded"), { name: "ProvisionedThroughputExceededException" });
}

describe("batchWriteAll", () => {
  it("writes every request in calls of at most 25 requests", async () => {
    const { doc, calls, written } = stubDoc(() => ({}));
    await batchWriteAll(doc, { A: puts("a", 40), B: puts("b", 21) }, { timeBudgetMs: 5_000 });
    expect(calls.map(sizeOf)).toEqual([25, 25, 11]);
    expect(written.sort()).toEqual([...puts("a", 40), ...puts("b", 21)].map(idOf).sort());
  });

  it("sends unprocessed items again until every request is written", async () => {
    const { doc, calls, written } = stubDoc(leaveLast(7, 5));
    await batchWriteAll(doc, { A: puts("a", 30), B: puts("b", 30) }, { timeBudgetMs: 5_000, maxDelayMs: 5 });
    expect(calls.length).toBeGreaterThan(3);
    expect(Math.max(...calls.map(sizeOf))).toBeLessThanOrEqual(25);
    expect(written.sort()).toEqual([...puts("a", 30), ...puts("b", 30)].map(idOf).sort());
    expect(new Set(written).size).toBe(written.length);
  });

  it("keeps calls at 25 requests or fewer with several calls in flight", async () => {
    const { doc, calls, written } = stubDoc(leaveLast(10, 8));
    await batchWriteAll(doc, { A: puts("a", 200) }, { timeBudgetMs: 5_000, maxDelayMs: 5, concurrency: 4 });
    expect(Math.max(...calls.map(sizeOf))).toBeLessThanOrEqual(25);
    expect(written.sort()).toEqual(puts("a", 200).map(idOf).sort());
  });

  it("retries a call that DynamoDB throttles", async () => {
    const { doc, calls, written } = stubDoc((call) => (call <= 3 ? throttled() : {}));
    await batchWriteAll(doc, { A: puts("a", 10) }, { timeBudgetMs: 5_000, maxDelayMs: 5 });
    expect(calls).toHaveLength(4);
    expect(written).toHaveLength(10);
  });

  it("fails with BatchWriteIncompleteError naming what was not written when the budget runs out", async () => {
    const { doc, written } = stubDoc((_call, items) => {
      // Never accepts the requests of ids ending in 7.
      const left: RequestItems = {};
      for (const [table, list] of Object.entries(items)) {
        const stuck = list.filter((request) => idOf(request).endsWith("7"));
        if (stuck.length > 0) left[table] = stuck;
      }
      return left;
    });
    // Settling at all is the check that the budget ends the retries (the stub never accepts).
    const error = await batchWriteAll(
      doc,
      { A: puts("a", 30), B: [{ DeleteRequest: { Key: { id: "b7" } } }] },
      { timeBudgetMs: 300, maxDelayMs: 20, keyAttributes: { A: ["id"] } },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BatchWriteIncompleteError);
    expect(error).toBeInstanceOf(MusicpipeError);
    const incomplete = error as BatchWriteIncompleteError;
    expect(incomplete.code).toBe("batch_write_incomplete");
    expect(incomplete.requested).toBe(31);
    expect(incomplete.message).toContain("4 of 31 requests unwritten");
    expect(incomplete.unwritten.map((u) => [u.table, u.kind, u.key])).toEqual(
      expect.arrayContaining([
        ["A", "put", { id: "a7" }],
        ["A", "put", { id: "a17" }],
        ["A", "put", { id: "a27" }],
        ["B", "delete", { id: "b7" }],
      ]),
    );
    expect(incomplete.unwritten).toHaveLength(4);
    expect(written).toHaveLength(27);
  });

  it("sends every chunk at least once, even when an earlier chunk used up the time budget", async () => {
    const sent: number[] = [];
    const doc = {
      async send(command: BatchWriteCommand): Promise<BatchWriteCommandOutput> {
        const items = command.input.RequestItems ?? {};
        sent.push(Object.values(items).reduce((n, list) => n + list.length, 0));
        await new Promise((r) => setTimeout(r, 30)); // slower than the whole budget
        return { UnprocessedItems: {}, $metadata: {} };
      },
    };
    await batchWriteAll(doc, { A: puts("a", 60) }, { timeBudgetMs: 5 });
    expect(sent).toEqual([25, 25, 10]);
  });

  it("reports the requests of a call that stays throttled", async () => {
    const { doc } = stubDoc(() => throttled());
    const error = await batchWriteAll(doc, { A: puts("a", 3) }, { timeBudgetMs: 100, maxDelayMs: 10 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BatchWriteIncompleteError);
    // Without keyAttributes, the key of a put is its whole item.
    expect((error as BatchWriteIncompleteError).unwritten.map((u) => u.key)).toEqual([
      { id: "a0", n: 0 },
      { id: "a1", n: 1 },
      { id: "a2", n: 2 },
    ]);
    expect((error as Error).cause).toMatchObject({ name: "ProvisionedThroughputExceededException" });
  });

  it("throws other errors as they are, without retrying", async () => {
    const invalid = Object.assign(new Error("Provided list of item keys contains duplicates"), {
      name: "ValidationException",
    });
    const { doc, calls } = stubDoc(() => invalid);
    await expect(batchWriteAll(doc, { A: puts("a", 3) }, { timeBudgetMs: 1_000 })).rejects.toBe(invalid);
    expect(calls).toHaveLength(1);
  });

  it("sends nothing for no requests", async () => {
    const { doc, calls } = stubDoc(() => ({}));
    await batchWriteAll(doc, { A: [] }, { timeBudgetMs: 1_000 });
    expect(calls).toHaveLength(0);
  });

  it("refuses a missing or non-positive time budget", async () => {
    const { doc } = stubDoc(() => ({}));
    await expect(batchWriteAll(doc, {}, { timeBudgetMs: 0 })).rejects.toBeInstanceOf(ConfigurationError);
    await expect(batchWriteAll(doc, {}, {} as { timeBudgetMs: number })).rejects.toBeInstanceOf(
      ConfigurationError,
    );
    await expect(batchWriteAll(doc, {}, { timeBudgetMs: 10, concurrency: 1.5 })).rejects.toBeInstanceOf(
      ConfigurationError,
    );
  });
});

describe("backoffDelay", () => {
  const timing = { baseDelayMs: 25, maxDelayMs: 1_000 };

  it("draws the delay uniformly from [0, min(cap, base * 2^attempt))", () => {
    expect(backoffDelay(0, timing, () => 0)).toBe(0);
    expect(backoffDelay(0, timing, () => 0.5)).toBe(12.5);
    expect(backoffDelay(3, timing, () => 0.5)).toBe(100);
    expect(backoffDelay(3, timing, () => 0.999_999)).toBeLessThan(200);
  });

  it("never exceeds the cap, however many attempts", () => {
    expect(backoffDelay(6, timing, () => 0.999_999)).toBeLessThan(1_000);
    expect(backoffDelay(500, timing, () => 0.999_999)).toBeLessThan(1_000);
    expect(backoffDelay(500, timing, () => 0.5)).toBe(500);
  });
});
