// Multipart copy (CreateMultipartUpload + UploadPartCopy + Complete) against a real server.
// s3rver 3.7.1 answers UploadPartCopy with 501, so this file starts @20minutes/s3rver 4.0.4
// in-process on a free port, with a small threshold standing in for the 5 GiB one.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
// @ts-expect-error: a CommonJS package without types
import S3rver from "@20minutes/s3rver";
import { CreateBucketCommand, HeadObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { createS3ObjectStore } from "@musicpipe/aws/s3";
import { ConditionFailedError, ObjectNotFoundError } from "@musicpipe/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uniqueName } from "./clients.js";

const MiB = 1024 * 1024;

interface RunningServer {
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function readAll(iterable: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of iterable) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

describe("S3 multipart copy on @20minutes/s3rver 4.0.4", () => {
  let server: RunningServer;
  let directory: string;
  let client: S3Client;
  const bucket = uniqueName("s3-copy");

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), "musicpipe-s3rver4-"));
    const port = await freePort();
    server = new S3rver({
      address: "127.0.0.1",
      port,
      directory,
      silent: true,
      // The SDK signs with its own credentials; this server only checks them when asked to.
      allowMismatchedSignatures: true,
    }) as RunningServer;
    await server.run();
    client = new S3Client({
      endpoint: `http://127.0.0.1:${port}`,
      region: "us-east-1",
      forcePathStyle: true,
      credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    });
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  });

  afterAll(async () => {
    client?.destroy();
    await server?.close();
    if (directory !== undefined) await rm(directory, { recursive: true, force: true });
  });

  /** The names of the commands sent through {@link counting}. */
  const sent: string[] = [];
  /** The client, recording which commands go through it. */
  const counting = () =>
    new Proxy(client, {
      get(target, property, receiver) {
        if (property !== "send") return Reflect.get(target, property, receiver);
        return (command: { constructor: { name: string } }) => {
          sent.push(command.constructor.name);
          return target.send(command as Parameters<S3Client["send"]>[0]);
        };
      },
    });

  const smallThreshold = () =>
    createS3ObjectStore({
      bucket,
      client: counting(),
      prefix: `${uniqueName("t")}/`,
      multipartCopyThresholdBytes: 5 * MiB,
      copyPartSizeBytes: 5 * MiB,
      copyConcurrency: 2,
    });

  it("copies an object above the threshold in parts, byte for byte", async () => {
    const store = smallThreshold();
    const data = randomBytes(12 * MiB + 1);
    const source = await store.put("big/source.bin", data, { contentType: "text/csv" });
    sent.length = 0;
    const copied = await store.copy("big/source.bin", "archive/copy.bin", { ifMatch: source.etag });
    expect(sent).toEqual([
      "HeadObjectCommand",
      "CreateMultipartUploadCommand",
      "UploadPartCopyCommand",
      "UploadPartCopyCommand",
      "UploadPartCopyCommand",
      "CompleteMultipartUploadCommand",
    ]);
    const info = await store.head("archive/copy.bin");
    expect(info?.size).toBe(data.byteLength);
    expect(info?.etag).toBe(copied.etag);
    const back = await readAll(store.get("archive/copy.bin"));
    expect(Buffer.compare(back, data)).toBe(0);
    expect((await store.head("big/source.bin"))?.etag).toBe(source.etag);
  });

  it("keeps the source's content type on a multipart copy", async () => {
    const prefix = `${uniqueName("t")}/`;
    const store = createS3ObjectStore({
      bucket,
      client,
      prefix,
      multipartCopyThresholdBytes: 5 * MiB,
      copyPartSizeBytes: 5 * MiB,
    });
    await store.put("typed.csv", randomBytes(6 * MiB), { contentType: "text/csv" });
    await store.copy("typed.csv", "typed-copy.csv");
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: `${prefix}typed-copy.csv` }));
    expect(head.ContentType).toBe("text/csv");
    expect(head.ContentLength).toBe(6 * MiB);
  });

  it("copies an object at the threshold with one CopyObject", async () => {
    const store = smallThreshold();
    const data = randomBytes(5 * MiB);
    const source = await store.put("exact.bin", data);
    sent.length = 0;
    const copied = await store.copy("exact.bin", "exact-copy.bin");
    expect(sent).toEqual(["HeadObjectCommand", "CopyObjectCommand"]);
    // A single CopyObject of a single-part object keeps the content MD5.
    expect(copied.etag).toBe(source.etag);
    expect(Buffer.compare(await readAll(store.get("exact-copy.bin")), data)).toBe(0);
  });

  it("refuses a stale ifMatch on a large copy, copying nothing", async () => {
    const store = smallThreshold();
    const { etag: stale } = await store.put("moving.bin", randomBytes(6 * MiB));
    await store.put("moving.bin", randomBytes(6 * MiB));
    await expect(store.copy("moving.bin", "moved.bin", { ifMatch: stale })).rejects.toBeInstanceOf(
      ConditionFailedError,
    );
    expect(await store.head("moved.bin")).toBeUndefined();
  });

  it("fails a copy of a missing source with ObjectNotFoundError", async () => {
    const store = smallThreshold();
    await expect(store.copy("missing.bin", "copy.bin")).rejects.toBeInstanceOf(ObjectNotFoundError);
  });
});
