// Multipart copy logic with a fake client: part ranges, per-part If-Match, bounded
// concurrency, and aborting the upload on failure. (The happy path also runs against
// @20minutes/s3rver in tests/integration/s3-multipart-copy.test.ts.)
import type { S3Client } from "@aws-sdk/client-s3";
import { createS3ObjectStore, S3OperationError } from "@musicpipe/aws/s3";
import { ConditionFailedError, ObjectNotFoundError } from "@musicpipe/core";
import { describe, expect, it } from "vitest";
import { copyParts } from "../../src/s3/options.js";

type Input = Record<string, unknown>;

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const TiB = 1024 * GiB;

interface FakeOptions {
  /** The source object's size. */
  readonly size: number;
  /** Fails this part number with the given error. */
  readonly failPart?: { readonly part: number; readonly error: Error } | undefined;
  readonly failComplete?: Error | undefined;
  readonly failAbort?: boolean | undefined;
  /** Milliseconds each UploadPartCopy takes. */
  readonly partDelayMs?: number | undefined;
}

/** A fake S3 that knows one source object and records every command. */
function fakeS3(options: FakeOptions) {
  const sent: { name: string; input: Input }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const client = {
    async send(command: { constructor: { name: string }; input: Input }) {
      const name = command.constructor.name.replace(/Command$/, "");
      const input = command.input;
      sent.push({ name, input });
      switch (name) {
        case "HeadObject":
          return {
            ContentLength: options.size,
            ETag: '"source-etag"',
            ContentType: "text/csv",
            Metadata: { origin: "test" },
          };
        case "CreateMultipartUpload":
          return { UploadId: "upload-1" };
        case "UploadPartCopy": {
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          try {
            await new Promise((resolve) => setTimeout(resolve, options.partDelayMs ?? 0));
            const failure = options.failPart;
            if (failure !== undefined && failure.part === input.PartNumber) throw failure.error;
            return { CopyPartResult: { ETag: `"part-${String(input.PartNumber)}"` } };
          } finally {
            inFlight--;
          }
        }
        case "CompleteMultipartUpload":
          if (options.failComplete !== undefined) throw options.failComplete;
          return { ETag: '"whole-3"' };
        case "AbortMultipartUpload":
          if (options.failAbort) throw new Error("abort failed too");
          return {};
        case "CopyObject":
          return { CopyObjectResult: { ETag: '"source-etag"' } };
        default:
          throw new Error(`unexpected ${name}`);
      }
    },
  } as unknown as S3Client;
  return {
    client,
    sent,
    names: () => sent.map((call) => call.name),
    maxInFlight: () => maxInFlight,
  };
}

function sdkError(name: string, status: number): Error {
  return Object.assign(new Error(`${name} (from the fake)`), { name, $metadata: { httpStatusCode: status } });
}

const small = { multipartCopyThresholdBytes: 5 * MiB, copyPartSizeBytes: 5 * MiB };

describe("multipart copy", () => {
  it("copies each part's byte range with the source's etag as If-Match, then completes in order", async () => {
    const fake = fakeS3({ size: 12 * MiB + 1 });
    const store = createS3ObjectStore({ bucket: "bkt", client: fake.client, prefix: "p/", ...small });
    await expect(store.copy("in/a b.csv", "out/a.csv")).resolves.toEqual({ etag: "whole-3" });
    expect(fake.names()).toEqual([
      "HeadObject",
      "CreateMultipartUpload",
      "UploadPartCopy",
      "UploadPartCopy",
      "UploadPartCopy",
      "CompleteMultipartUpload",
    ]);
    expect(fake.sent[1]?.input).toEqual({
      Bucket: "bkt",
      Key: "p/out/a.csv",
      ContentType: "text/csv",
      ContentEncoding: undefined,
      ContentDisposition: undefined,
      ContentLanguage: undefined,
      CacheControl: undefined,
      Metadata: { origin: "test" },
    });
    const parts = fake.sent.filter((call) => call.name === "UploadPartCopy").map((call) => call.input);
    expect(parts.map((part) => [part.PartNumber, part.CopySourceRange])).toEqual([
      [1, `bytes=0-${5 * MiB - 1}`],
      [2, `bytes=${5 * MiB}-${10 * MiB - 1}`],
      [3, `bytes=${10 * MiB}-${12 * MiB}`],
    ]);
    for (const part of parts) {
      expect(part).toMatchObject({
        Bucket: "bkt",
        Key: "p/out/a.csv",
        UploadId: "upload-1",
        CopySource: "bkt/p/in/a%20b.csv",
        CopySourceIfMatch: '"source-etag"',
      });
    }
    expect(fake.sent[5]?.input).toEqual({
      Bucket: "bkt",
      Key: "p/out/a.csv",
      UploadId: "upload-1",
      MultipartUpload: {
        Parts: [
          { ETag: '"part-1"', PartNumber: 1 },
          { ETag: '"part-2"', PartNumber: 2 },
          { ETag: '"part-3"', PartNumber: 3 },
        ],
      },
    });
  });

  it("uses one CopyObject up to 5 GiB by default, and 512 MiB parts above", async () => {
    const atLimit = fakeS3({ size: 5 * GiB });
    await createS3ObjectStore({ bucket: "b", client: atLimit.client }).copy("a", "b");
    expect(atLimit.names()).toEqual(["HeadObject", "CopyObject"]);

    const above = fakeS3({ size: 5 * GiB + 1 });
    await createS3ObjectStore({ bucket: "b", client: above.client }).copy("a", "b");
    const parts = above.sent.filter((call) => call.name === "UploadPartCopy");
    expect(parts).toHaveLength(11);
    expect(parts[0]?.input.CopySourceRange).toBe(`bytes=0-${512 * MiB - 1}`);
    expect(parts[10]?.input.CopySourceRange).toBe(`bytes=${5 * GiB}-${5 * GiB}`);
  });

  it("raises the part size so that no copy needs more than 10,000 parts", () => {
    const size = 5 * TiB;
    const parts = copyParts(size, 512 * MiB);
    expect(parts.length).toBeLessThanOrEqual(10_000);
    expect(parts[0]?.start).toBe(0);
    expect(parts.at(-1)?.end).toBe(size);
    for (let i = 1; i < parts.length; i++) expect(parts[i]?.start).toBe(parts[i - 1]?.end);
    expect(parts.slice(0, -1).every((part) => part.end - part.start >= 5 * MiB)).toBe(true);
  });

  it("keeps at most copyConcurrency parts in flight", async () => {
    const fake = fakeS3({ size: 40 * MiB, partDelayMs: 5 });
    const store = createS3ObjectStore({ bucket: "b", client: fake.client, ...small, copyConcurrency: 3 });
    await store.copy("a", "b");
    expect(fake.names().filter((name) => name === "UploadPartCopy")).toHaveLength(8);
    expect(fake.maxInFlight()).toBe(3);
  });

  it("aborts the upload when a part fails, starts no further parts, and reports S3OperationError", async () => {
    const fake = fakeS3({ size: 30 * MiB, failPart: { part: 2, error: sdkError("InternalError", 500) } });
    const store = createS3ObjectStore({ bucket: "b", client: fake.client, ...small, copyConcurrency: 1 });
    const error = await store.copy("a", "b").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(S3OperationError);
    expect(error).toMatchObject({ operation: "UploadPartCopy", statusCode: 500, key: "b" });
    expect(fake.names()).toEqual([
      "HeadObject",
      "CreateMultipartUpload",
      "UploadPartCopy",
      "UploadPartCopy",
      "AbortMultipartUpload",
    ]);
    expect(fake.sent.at(-1)?.input).toEqual({ Bucket: "b", Key: "b", UploadId: "upload-1" });
  });

  it("reports a source rewritten during the copy (412 on a part) as ConditionFailedError", async () => {
    const fake = fakeS3({
      size: 12 * MiB,
      failPart: { part: 3, error: sdkError("PreconditionFailed", 412) },
    });
    const store = createS3ObjectStore({ bucket: "b", client: fake.client, ...small });
    await expect(store.copy("a", "b")).rejects.toBeInstanceOf(ConditionFailedError);
    expect(fake.names().at(-1)).toBe("AbortMultipartUpload");
  });

  it("reports a source deleted during the copy as the source's ObjectNotFoundError", async () => {
    const fake = fakeS3({ size: 12 * MiB, failPart: { part: 1, error: sdkError("NoSuchKey", 404) } });
    const store = createS3ObjectStore({ bucket: "b", client: fake.client, ...small });
    const error = await store.copy("src", "dst").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ObjectNotFoundError);
    expect((error as ObjectNotFoundError).key).toBe("src");
  });

  it("aborts when completing fails, and keeps the first error when the abort fails too", async () => {
    const fake = fakeS3({ size: 12 * MiB, failComplete: sdkError("InternalError", 500), failAbort: true });
    const store = createS3ObjectStore({ bucket: "b", client: fake.client, ...small });
    const error = await store.copy("a", "b").catch((e: unknown) => e);
    expect(error).toMatchObject({ operation: "CompleteMultipartUpload", statusCode: 500 });
    expect(fake.names().slice(-2)).toEqual(["CompleteMultipartUpload", "AbortMultipartUpload"]);
  });
});
