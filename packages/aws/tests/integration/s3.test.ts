// The S3 object store against s3rver 3.7.1 (started by the global setup): the port's
// conformance suite, then what only S3 has (prefixes, streamed multipart puts, S3 errors).
import { randomBytes } from "node:crypto";
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { createS3ObjectStore, S3OperationError } from "@musicpipe/aws/s3";
import { ConditionFailedError, InvalidKeyError, ObjectNotFoundError } from "@musicpipe/core";
import { runObjectStoreConformance } from "@musicpipe/memory/conformance";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { localS3Client, uniqueName } from "./clients.js";

const client = localS3Client();
const bucket = uniqueName("s3-store");

beforeAll(async () => {
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
});

runObjectStoreConformance({
  name: "S3 on s3rver",
  create: () => createS3ObjectStore({ bucket, client }),
  capabilities: {
    // s3rver ignores x-amz-copy-source-if-match; the adapter's own etag check before the copy
    // keeps the contract here, and AWS enforces the header atomically as well.
    copyIfMatch: true,
    ranges: true,
    // Single-part uploads and copies of them keep the content MD5 (not so with SSE-KMS).
    contentEtag: true,
    // S3 stores `../x`, `/x`, `a//b` and `a\b` as ordinary keys.
    rejectsUnsafeKeys: false,
    // s3rver lists by walking its folders (`dir/x` before `dir x`); AWS lists in UTF-8 byte
    // order and the adapter yields pages in the order S3 sends them (see the unit tests).
    utf8ListOrder: false,
  },
});

async function readAll(iterable: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of iterable) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

async function keysIn(iterable: AsyncIterable<{ key: string }>): Promise<string[]> {
  const keys: string[] = [];
  for await (const info of iterable) keys.push(info.key);
  return keys;
}

/** `data` as chunks of awkward sizes, copied so the source cannot change under the upload. */
async function* streamOf(data: Uint8Array, size = 700_001): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < data.byteLength; offset += size) yield data.slice(offset, offset + size);
}

const MiB = 1024 * 1024;

describe("S3 object store on s3rver", () => {
  const ns = () => uniqueName("t");

  it("stores a multi-megabyte stream as a multipart upload that reads back byte for byte", async () => {
    const store = createS3ObjectStore({ bucket, client, uploadPartSizeBytes: 5 * MiB, uploadQueueSize: 2 });
    const key = `${ns()}/streamed.bin`;
    const data = randomBytes(12 * MiB + 3);
    const { etag } = await store.put(key, streamOf(data));
    const info = await store.head(key);
    expect(info?.size).toBe(data.byteLength);
    expect(info?.etag).toBe(etag);
    const back = await readAll(store.get(key));
    expect(back.byteLength).toBe(data.byteLength);
    expect(Buffer.compare(back, data)).toBe(0);
  });

  it("stores a stream intact even through a client that sends default checksums", async () => {
    // A stream PutObject through such a client stores aws-chunked framing on s3rver; the
    // adapter never sends a stream body itself (lib-storage sends buffered parts).
    const defaultChecksums = new S3Client({
      endpoint: inject("s3Endpoint"),
      region: "us-east-1",
      forcePathStyle: true,
      credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
    });
    const store = createS3ObjectStore({ bucket, client: defaultChecksums });
    const key = `${ns()}/checksummed.bin`;
    const data = randomBytes(2 * MiB + 5);
    await store.put(key, streamOf(data, 65_536));
    expect(Buffer.compare(await readAll(store.get(key)), data)).toBe(0);
  });

  it("keeps its objects under the prefix and lists keys without it", async () => {
    const prefix = `${ns()}/tenant-a/`;
    const store = createS3ObjectStore({ bucket, client, prefix });
    await store.put("data/raw/streams/s1.csv", "a");
    await store.put("data/raw/streams/s2.csv", "bb");
    await store.copy("data/raw/streams/s1.csv", "data/archive/s1.csv");
    const raw = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    expect(raw.Contents?.map((object) => object.Key)).toEqual([
      `${prefix}data/archive/s1.csv`,
      `${prefix}data/raw/streams/s1.csv`,
      `${prefix}data/raw/streams/s2.csv`,
    ]);
    expect(await keysIn(store.list("data/raw/"))).toEqual([
      "data/raw/streams/s1.csv",
      "data/raw/streams/s2.csv",
    ]);
    expect((await store.head("data/raw/streams/s2.csv"))?.key).toBe("data/raw/streams/s2.csv");
    expect((await readAll(store.get("data/archive/s1.csv"))).toString()).toBe("a");
    await store.delete("data/raw/streams/s1.csv");
    expect(await keysIn(store.list(""))).toEqual(["data/archive/s1.csv", "data/raw/streams/s2.csv"]);
  });

  it("copies keys with spaces, unicode and ~ % ( ) [ ]", async () => {
    const store = createS3ObjectStore({ bucket, client });
    const from = `${ns()}/in/with space ~tilde%20(paren)[bracket]-é-中文-😀.csv`;
    const to = `${ns()}/out/copy of é 😀 100%.csv`;
    const { etag } = await store.put(from, "special");
    await store.copy(from, to, { ifMatch: etag });
    expect((await readAll(store.get(to))).toString()).toBe("special");
  });

  it("copies keys with + & = # ? , ; : @ $ by streaming when the server cannot resolve the CopySource", async () => {
    const store = createS3ObjectStore({ bucket, client });
    const from = `${ns()}/in/a+b&c=d#e?f,g;h:i@j$k.csv`;
    const to = `${ns()}/out/20260101T000000000Z_a+b&c=d#e?f,g;h:i@j$k.csv`;
    const bytes = randomBytes(3 * 1024 * 1024 + 17);
    const { etag } = await store.put(from, bytes);
    await store.copy(from, to, { ifMatch: etag });
    expect(Buffer.compare(await readAll(store.get(to)), bytes)).toBe(0);
    await expect(
      store.copy(from, `${to}.2`, { ifMatch: "0123456789abcdef0123456789abcdef" }),
    ).rejects.toBeInstanceOf(ConditionFailedError);
  });

  it("refuses a stale ifMatch before copying (s3rver itself ignores the header)", async () => {
    const store = createS3ObjectStore({ bucket, client });
    const key = `${ns()}/src.csv`;
    await store.put(key, "v1");
    await expect(
      store.copy(key, `${key}.copy`, { ifMatch: "0123456789abcdef0123456789abcdef" }),
    ).rejects.toBeInstanceOf(ConditionFailedError);
    expect(await store.head(`${key}.copy`)).toBeUndefined();
  });

  it("copies an object onto itself as a no-op that keeps its etag", async () => {
    const store = createS3ObjectStore({ bucket, client });
    const key = `${ns()}/self.csv`;
    const { etag } = await store.put(key, "same");
    await expect(store.copy(key, key, { ifMatch: etag })).resolves.toEqual({ etag });
  });

  it("yields nothing for a range starting at or past the end, or an empty range", async () => {
    const store = createS3ObjectStore({ bucket, client });
    const key = `${ns()}/short.txt`;
    await store.put(key, "0123456789");
    expect((await readAll(store.get(key, { range: { start: 10 } }))).byteLength).toBe(0);
    expect((await readAll(store.get(key, { range: { start: 20, end: 30 } }))).byteLength).toBe(0);
    expect((await readAll(store.get(key, { range: { start: 4, end: 4 } }))).byteLength).toBe(0);
    expect((await readAll(store.get(key, { range: { start: 0 } }))).toString()).toBe("0123456789");
    await expect(
      readAll(store.get(`${key}.missing`, { range: { start: 4, end: 4 } })),
    ).rejects.toBeInstanceOf(ObjectNotFoundError);
  });

  it("lets a reader stop early without leaking the connection", async () => {
    const store = createS3ObjectStore({ bucket, client });
    const key = `${ns()}/early.bin`;
    await store.put(key, randomBytes(4 * MiB));
    for (let i = 0; i < 60; i++) {
      for await (const chunk of store.get(key)) {
        expect(chunk.byteLength).toBeGreaterThan(0);
        break;
      }
    }
    // With leaked sockets the client's pool (50) would be exhausted by now.
    expect((await store.head(key))?.size).toBe(4 * MiB);
  });

  it("reports a missing bucket as S3OperationError with S3's code and the SDK error as cause", async () => {
    const store = createS3ObjectStore({ bucket: uniqueName("no-such-bucket"), client });
    const error = await store.put("a.csv", "x").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(S3OperationError);
    expect(error).toMatchObject({
      code: "s3_error",
      operation: "PutObject",
      key: "a.csv",
      awsCode: "NoSuchBucket",
    });
    expect((error as S3OperationError).statusCode).toBe(404);
    expect((error as S3OperationError).cause).toBeInstanceOf(Error);
    await expect(readAll(store.get("a.csv"))).rejects.toBeInstanceOf(S3OperationError);
    let closed = false;
    async function* body() {
      try {
        for (let i = 0; i < 100; i++) yield randomBytes(MiB);
      } finally {
        closed = true;
      }
    }
    await expect(store.put("streamed.bin", body())).rejects.toMatchObject({ operation: "Upload" });
    // The failed upload stops the caller's stream instead of leaving it suspended.
    expect(closed).toBe(true);
    await expect(keysIn(store.list(""))).rejects.toBeInstanceOf(S3OperationError);
  });

  it("refuses empty keys and keys with NUL before calling S3", async () => {
    const store = createS3ObjectStore({ bucket, client });
    await expect(store.put("", "x")).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(store.head("a\0b")).rejects.toBeInstanceOf(InvalidKeyError);
    // Everything else is an ordinary S3 key (s3rver mangles `.`, `..` and empty segments,
    // which AWS keeps: see docs/aws-s3.md).
    const odd = `${ns()}/back\\slash, \u0001 control and trailing slash/`;
    await store.put(odd, "odd");
    expect((await readAll(store.get(odd))).toString()).toBe("odd");
  });
});
