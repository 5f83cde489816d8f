// The S3 object store without a server: options, request shapes (Range, CopySource, prefix,
// pagination) and the mapping of S3 errors, with a stub client whose `send` answers by command.
import type { S3Client } from "@aws-sdk/client-s3";
import { createS3ObjectStore, S3OperationError } from "@musicpipe/aws/s3";
import {
  ConditionFailedError,
  ConfigurationError,
  InvalidKeyError,
  MusicpipeError,
  ObjectNotFoundError,
} from "@musicpipe/core";
import { describe, expect, it } from "vitest";
import { mapS3Error } from "../../src/s3/errors.js";
import { copySource, decodeListedKey, rangeHeader, unquoteEtag } from "../../src/s3/keys.js";

type Input = Record<string, unknown>;
interface Sent {
  readonly name: string;
  readonly input: Input;
}

/** A client whose `send` records each command (`GetObject`, ...) and answers with `reply`. */
function stubClient(reply: (name: string, input: Input) => unknown = () => ({})) {
  const sent: Sent[] = [];
  const client = {
    async send(command: { constructor: { name: string }; input: Input }) {
      const name = command.constructor.name.replace(/Command$/, "");
      sent.push({ name, input: command.input });
      return reply(name, command.input);
    },
  } as unknown as S3Client;
  return { client, sent };
}

/** An error shaped like the SDK's service exceptions. */
function sdkError(name: string, status: number): Error {
  return Object.assign(new Error(`${name} (from the stub)`), { name, $metadata: { httpStatusCode: status } });
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

describe("createS3ObjectStore options", () => {
  const { client } = stubClient();

  it.each([
    ["no options", undefined],
    ["no bucket", {}],
    ["an empty bucket", { bucket: "" }],
    ["a bucket that is not a string", { bucket: 42 }],
    ["a bucket with a slash (an ARN)", { bucket: "arn:aws:s3:eu-west-1:123:accesspoint/x" }],
    ["a prefix with NUL", { bucket: "b", prefix: "a\0" }],
    ["a prefix that is not a string", { bucket: "b", prefix: 3 }],
    ["a client without send", { bucket: "b", client: {} }],
    ["a negative copy threshold", { bucket: "b", multipartCopyThresholdBytes: -1 }],
    ["a fractional copy threshold", { bucket: "b", multipartCopyThresholdBytes: 1.5 }],
    ["a copy threshold above 5 GiB", { bucket: "b", multipartCopyThresholdBytes: 5 * GiB + 1 }],
    ["a copy threshold given as a string", { bucket: "b", multipartCopyThresholdBytes: "100" }],
    ["a copy part below 5 MiB", { bucket: "b", copyPartSizeBytes: 5 * MiB - 1 }],
    ["a copy part above 5 GiB", { bucket: "b", copyPartSizeBytes: 5 * GiB + 1 }],
    ["a copy concurrency of 0", { bucket: "b", copyConcurrency: 0 }],
    ["an upload part below 5 MiB", { bucket: "b", uploadPartSizeBytes: MiB }],
    ["an upload part of NaN", { bucket: "b", uploadPartSizeBytes: Number.NaN }],
    ["an upload queue of 0", { bucket: "b", uploadQueueSize: 0 }],
  ])("refuses %s with ConfigurationError", (_, options) => {
    expect(() => createS3ObjectStore(options as never)).toThrow(ConfigurationError);
  });

  it("names the option that is wrong and its allowed range", () => {
    expect(() => createS3ObjectStore({ bucket: "b", client, copyPartSizeBytes: MiB })).toThrow(
      "'copyPartSizeBytes' must be an integer from 5 MiB to 5 GiB, got 1048576",
    );
  });

  it("accepts the limits themselves", () => {
    expect(() =>
      createS3ObjectStore({
        bucket: "b",
        client,
        prefix: "",
        multipartCopyThresholdBytes: 0,
        copyPartSizeBytes: 5 * MiB,
        copyConcurrency: 1,
        uploadPartSizeBytes: 5 * GiB,
        uploadQueueSize: 1,
      }),
    ).not.toThrow();
    expect(() =>
      createS3ObjectStore({ bucket: "b", client, multipartCopyThresholdBytes: 5 * GiB }),
    ).not.toThrow();
  });

  it("builds its own S3Client when none is given, without calling S3", () => {
    expect(() => createS3ObjectStore({ bucket: "b" })).not.toThrow();
  });

  it("calls nothing at construction, and gets and lists only when iterated", () => {
    const { client: lazy, sent } = stubClient();
    const store = createS3ObjectStore({ bucket: "b", client: lazy });
    store.get("a.csv");
    store.list("data/");
    expect(sent).toEqual([]);
  });
});

describe("byte ranges", () => {
  it.each([
    [{ start: 0, end: 10 }, "bytes=0-9"],
    [{ start: 123, end: 124 }, "bytes=123-123"],
    [{ start: 65_000, end: 1_300_001 }, "bytes=65000-1300000"],
    [{ start: 5 }, "bytes=5-"],
    [{ start: 5, end: undefined }, "bytes=5-"],
    [{ start: 0 }, undefined],
    [undefined, undefined],
    [{ start: 7, end: 7 }, "empty"],
  ])("turns the port range %j into %j", (range, header) => {
    expect(rangeHeader(range)).toBe(header);
  });

  it.each([
    [{ start: -1 }],
    [{ start: 1.5 }],
    [{ start: Number.NaN }],
    [{ start: 10, end: 9 }],
    [{ start: 0, end: 2 ** 60 }],
  ])("refuses the range %j with ConfigurationError at the call", (range) => {
    const { client, sent } = stubClient();
    const store = createS3ObjectStore({ bucket: "b", client });
    expect(() => store.get("k", { range })).toThrow(ConfigurationError);
    expect(sent).toEqual([]);
  });

  it("sends the Range header with an inclusive last byte", async () => {
    const { client, sent } = stubClient(() => ({ Body: (async function* () {})() }));
    const store = createS3ObjectStore({ bucket: "b", client });
    await collect(store.get("k", { range: { start: 2, end: 5 } }));
    await collect(store.get("k"));
    expect(sent.map((call) => call.input.Range)).toEqual(["bytes=2-4", undefined]);
  });

  it("answers an empty range with a head: nothing for an object, ObjectNotFoundError for none", async () => {
    const { client, sent } = stubClient((_, input) => {
      if (input.Key === "missing") throw sdkError("NotFound", 404);
      return { ContentLength: 10, ETag: '"e"' };
    });
    const store = createS3ObjectStore({ bucket: "b", client });
    expect(await collect(store.get("k", { range: { start: 3, end: 3 } }))).toEqual([]);
    await expect(collect(store.get("missing", { range: { start: 3, end: 3 } }))).rejects.toBeInstanceOf(
      ObjectNotFoundError,
    );
    expect(sent.map((call) => call.name)).toEqual(["HeadObject", "HeadObject"]);
  });

  it("yields nothing when S3 answers 416 (the range starts past the end)", async () => {
    const { client } = stubClient(() => {
      throw sdkError("InvalidRange", 416);
    });
    const store = createS3ObjectStore({ bucket: "b", client });
    expect(await collect(store.get("k", { range: { start: 100, end: 200 } }))).toEqual([]);
  });
});

describe("get", () => {
  it("yields the body's chunks as they come, without joining them", async () => {
    const chunks = [Buffer.from("ab"), Buffer.from("cde"), Buffer.from("f")];
    const { client } = stubClient(() => ({
      Body: (async function* () {
        yield* chunks;
      })(),
    }));
    const store = createS3ObjectStore({ bucket: "b", client });
    const got = await collect(store.get("k"));
    expect(got).toHaveLength(3);
    got.forEach((chunk, i) => {
      expect(chunk).toBe(chunks[i]);
    });
  });

  it("fails a missing key with ObjectNotFoundError when iteration starts", async () => {
    const { client } = stubClient(() => {
      throw sdkError("NoSuchKey", 404);
    });
    const store = createS3ObjectStore({ bucket: "b", client });
    const error = await collect(store.get("gone.csv")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ObjectNotFoundError);
    expect((error as ObjectNotFoundError).key).toBe("gone.csv");
  });

  it("fails a missing bucket with S3OperationError, not ObjectNotFoundError", async () => {
    const { client } = stubClient(() => {
      throw sdkError("NoSuchBucket", 404);
    });
    const store = createS3ObjectStore({ bucket: "b", client });
    await expect(collect(store.get("k"))).rejects.toBeInstanceOf(S3OperationError);
  });

  it("wraps a body that breaks mid-stream in S3OperationError", async () => {
    const { client } = stubClient(() => ({
      Body: (async function* () {
        yield Buffer.from("partial");
        throw Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
      })(),
    }));
    const store = createS3ObjectStore({ bucket: "b", client });
    const error = await collect(store.get("k")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(S3OperationError);
    expect((error as S3OperationError).message).toContain("socket hang up");
  });

  it("reads the object under the store's prefix", async () => {
    const { client, sent } = stubClient(() => ({ Body: undefined }));
    const store = createS3ObjectStore({ bucket: "bkt", client, prefix: "tenant/" });
    expect(await collect(store.get("a b.csv"))).toEqual([]);
    expect(sent[0]?.input).toMatchObject({ Bucket: "bkt", Key: "tenant/a b.csv" });
  });
});

describe("copy sources", () => {
  it("URL-encodes each segment of bucket/key as AWS documents, keeping the slashes", () => {
    const key = "data/raw/sp ace+plus&eq=hash#q?c,s;col:at@d$~pct%(p)[b]-é-😀.csv";
    expect(copySource("my-bucket", key)).toBe(
      "my-bucket/data/raw/sp%20ace%2Bplus%26eq%3Dhash%23q%3Fc%2Cs%3Bcol%3Aat%40d%24~pct%25(p)%5Bb%5D-%C3%A9-%F0%9F%98%80.csv",
    );
    expect(copySource("b", "a//b/")).toBe("b/a//b/");
  });

  it("copies with the prefixed, encoded source, the prefixed target and a quoted If-Match", async () => {
    const { client, sent } = stubClient((name) =>
      name === "HeadObject" ? { ContentLength: 10, ETag: '"abc"' } : { CopyObjectResult: { ETag: '"abc"' } },
    );
    const store = createS3ObjectStore({ bucket: "bkt", client, prefix: "pre fix/" });
    await expect(store.copy("in/a+b.csv", "out/a+b.csv", { ifMatch: "abc" })).resolves.toEqual({
      etag: "abc",
    });
    expect(sent).toEqual([
      { name: "HeadObject", input: { Bucket: "bkt", Key: "pre fix/in/a+b.csv" } },
      {
        name: "CopyObject",
        input: {
          Bucket: "bkt",
          Key: "pre fix/out/a+b.csv",
          CopySource: "bkt/pre%20fix/in/a%2Bb.csv",
          CopySourceIfMatch: '"abc"',
        },
      },
    ]);
  });

  it("sends no If-Match without ifMatch", async () => {
    const { client, sent } = stubClient((name) =>
      name === "HeadObject" ? { ContentLength: 1, ETag: '"e"' } : { CopyObjectResult: { ETag: '"e"' } },
    );
    const store = createS3ObjectStore({ bucket: "b", client });
    await store.copy("a", "b");
    expect(sent[1]?.input.CopySourceIfMatch).toBeUndefined();
  });
});

describe("S3 errors", () => {
  it("returns undefined from head for a missing object", async () => {
    const { client } = stubClient(() => {
      throw sdkError("NotFound", 404);
    });
    expect(await createS3ObjectStore({ bucket: "b", client }).head("k")).toBeUndefined();
  });

  it("reports anything else as S3OperationError with the operation, key, status and cause", async () => {
    const denied = sdkError("AccessDenied", 403);
    const { client } = stubClient(() => {
      throw denied;
    });
    const store = createS3ObjectStore({ bucket: "bkt", client, prefix: "p/" });
    const error = await store.head("data/a.csv").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(S3OperationError);
    expect(error).toBeInstanceOf(MusicpipeError);
    expect(error).toMatchObject({
      code: "s3_error",
      operation: "HeadObject",
      bucket: "bkt",
      key: "data/a.csv",
      file: "data/a.csv",
      statusCode: 403,
      awsCode: "AccessDenied",
    });
    expect((error as Error).cause).toBe(denied);
    expect((error as Error).message).toMatch(
      /^S3 HeadObject of 's3:\/\/bkt\/p\/data\/a.csv' failed: AccessDenied \(HTTP 403\)/,
    );
  });

  it.each([
    ["PutObject", (s: ReturnType<typeof createS3ObjectStore>) => s.put("k", "x")],
    ["DeleteObject", (s: ReturnType<typeof createS3ObjectStore>) => s.delete("k")],
    ["ListObjectsV2", (s: ReturnType<typeof createS3ObjectStore>) => collect(s.list(""))],
    ["GetObject", (s: ReturnType<typeof createS3ObjectStore>) => collect(s.get("k"))],
  ])("maps a 500 from %s (after the SDK's retries) to S3OperationError", async (operation, call) => {
    const { client } = stubClient(() => {
      throw sdkError("InternalError", 500);
    });
    const error = await call(createS3ObjectStore({ bucket: "b", client })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(S3OperationError);
    expect(error).toMatchObject({ operation, statusCode: 500, awsCode: "InternalError" });
  });

  it("maps an error without an HTTP answer (network) to S3OperationError without a status", () => {
    const error = mapS3Error(
      Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }),
      "PutObject",
      {
        bucket: "b",
        key: "k",
        s3Key: "k",
      },
    );
    expect(error).toBeInstanceOf(S3OperationError);
    expect((error as S3OperationError).statusCode).toBeUndefined();
  });

  it("passes musicpipe errors through unchanged", () => {
    const original = new ConditionFailedError("changed");
    expect(mapS3Error(original, "CopyObject", { bucket: "b", key: "k", s3Key: "k" })).toBe(original);
  });

  it("fails a copy of a missing source with ObjectNotFoundError, sending no copy", async () => {
    const { client, sent } = stubClient(() => {
      throw sdkError("NotFound", 404);
    });
    const error = await createS3ObjectStore({ bucket: "b", client })
      .copy("src", "dst")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ObjectNotFoundError);
    expect((error as ObjectNotFoundError).key).toBe("src");
    expect(sent.map((call) => call.name)).toEqual(["HeadObject"]);
  });

  it("refuses a stale ifMatch from the head, before any copy", async () => {
    const { client, sent } = stubClient(() => ({ ContentLength: 1, ETag: '"new"' }));
    const store = createS3ObjectStore({ bucket: "b", client });
    await expect(store.copy("src", "dst", { ifMatch: "old" })).rejects.toBeInstanceOf(ConditionFailedError);
    expect(sent.map((call) => call.name)).toEqual(["HeadObject"]);
  });

  it("maps S3's 412 on CopyObject (the source changed after the head) to ConditionFailedError", async () => {
    const { client } = stubClient((name) => {
      if (name === "HeadObject") return { ContentLength: 1, ETag: '"e"' };
      throw sdkError("PreconditionFailed", 412);
    });
    const store = createS3ObjectStore({ bucket: "b", client });
    await expect(store.copy("src", "dst", { ifMatch: "e" })).rejects.toBeInstanceOf(ConditionFailedError);
  });

  it("maps NoSuchKey on CopyObject (the source deleted after the head) to the source's ObjectNotFoundError", async () => {
    const { client } = stubClient((name) => {
      if (name === "HeadObject") return { ContentLength: 1, ETag: '"e"' };
      throw sdkError("NoSuchKey", 404);
    });
    const error = await createS3ObjectStore({ bucket: "b", client })
      .copy("src", "dst")
      .catch((e: unknown) => e);
    expect((error as ObjectNotFoundError).key).toBe("src");
  });

  it("copies an object onto itself without calling CopyObject (S3 would refuse)", async () => {
    const { client, sent } = stubClient(() => ({ ContentLength: 1, ETag: '"e"' }));
    await expect(createS3ObjectStore({ bucket: "b", client }).copy("k", "k")).resolves.toEqual({ etag: "e" });
    expect(sent.map((call) => call.name)).toEqual(["HeadObject"]);
  });

  it("treats a 404 on delete as already deleted", async () => {
    const { client } = stubClient(() => {
      throw sdkError("NoSuchKey", 404);
    });
    await expect(createS3ObjectStore({ bucket: "b", client }).delete("k")).resolves.toBeUndefined();
  });
});

describe("put", () => {
  it("sends buffers and strings as one PutObject and returns the etag without quotes", async () => {
    const { client, sent } = stubClient(() => ({ ETag: '"d41d8cd98f00b204e9800998ecf8427e"' }));
    const store = createS3ObjectStore({ bucket: "b", client, prefix: "p/" });
    const bytes = new Uint8Array([1, 2, 3]);
    await expect(store.put("a.bin", bytes)).resolves.toEqual({ etag: "d41d8cd98f00b204e9800998ecf8427e" });
    await store.put("a.csv", "text", { contentType: "text/csv" });
    expect(sent).toEqual([
      { name: "PutObject", input: { Bucket: "b", Key: "p/a.bin", Body: bytes, ContentType: undefined } },
      { name: "PutObject", input: { Bucket: "b", Key: "p/a.csv", Body: "text", ContentType: "text/csv" } },
    ]);
  });

  it("heads the object when S3's answer carries no etag", async () => {
    const { client, sent } = stubClient((name) => (name === "HeadObject" ? { ETag: '"from-head"' } : {}));
    await expect(createS3ObjectStore({ bucket: "b", client }).put("k", "x")).resolves.toEqual({
      etag: "from-head",
    });
    expect(sent.map((call) => call.name)).toEqual(["PutObject", "HeadObject"]);
  });
});

describe("list", () => {
  it("follows continuation tokens to the last page, in the order S3 sends, without the prefix", async () => {
    const pages: Record<string, unknown> = {
      first: {
        IsTruncated: true,
        NextContinuationToken: "token-1",
        Contents: [
          { Key: "p/data/a.csv", Size: 1, ETag: '"e1"', LastModified: new Date(1) },
          { Key: "p/data/b.csv", Size: 2, ETag: '"e2"', LastModified: new Date(2) },
        ],
      },
      "token-1": {
        IsTruncated: true,
        NextContinuationToken: "token-2",
        Contents: [{ Key: "p/data/c.csv", Size: 3, ETag: '"e3"', LastModified: new Date(3) }],
      },
      "token-2": { IsTruncated: false, KeyCount: 0 },
    };
    const { client, sent } = stubClient((_, input) => pages[(input.ContinuationToken as string) ?? "first"]);
    const store = createS3ObjectStore({ bucket: "b", client, prefix: "p/" });
    expect(await collect(store.list("data/"))).toEqual([
      { key: "data/a.csv", size: 1, etag: "e1", lastModified: new Date(1) },
      { key: "data/b.csv", size: 2, etag: "e2", lastModified: new Date(2) },
      { key: "data/c.csv", size: 3, etag: "e3", lastModified: new Date(3) },
    ]);
    expect(sent.map((call) => call.input)).toEqual([
      { Bucket: "b", Prefix: "p/data/", ContinuationToken: undefined, EncodingType: "url" },
      { Bucket: "b", Prefix: "p/data/", ContinuationToken: "token-1", EncodingType: "url" },
      { Bucket: "b", Prefix: "p/data/", ContinuationToken: "token-2", EncodingType: "url" },
    ]);
  });

  it("decodes URL-encoded keys when S3 says it encoded them, and takes them as they are otherwise", async () => {
    const encoded = { EncodingType: "url", Contents: [{ Key: "a+b%2Bc%25d%01%C3%A9.csv", Size: 0 }] };
    const raw = { Contents: [{ Key: "a+b%2Bc.csv", Size: 0 }] };
    let answer: unknown = encoded;
    const { client } = stubClient(() => answer);
    const store = createS3ObjectStore({ bucket: "b", client });
    expect((await collect(store.list(""))).map((info) => info.key)).toEqual(["a b+c%d\u0001é.csv"]);
    answer = raw;
    expect((await collect(store.list(""))).map((info) => info.key)).toEqual(["a+b%2Bc.csv"]);
  });

  it("skips an object whose key is the store's prefix itself (a folder marker)", async () => {
    const { client } = stubClient(() => ({ Contents: [{ Key: "p/" }, { Key: "p/x" }] }));
    const store = createS3ObjectStore({ bucket: "b", client, prefix: "p/" });
    expect((await collect(store.list(""))).map((info) => info.key)).toEqual(["x"]);
  });

  it("fails a truncated page without a continuation token instead of looping", async () => {
    const { client } = stubClient(() => ({ IsTruncated: true, Contents: [] }));
    await expect(collect(createS3ObjectStore({ bucket: "b", client }).list(""))).rejects.toBeInstanceOf(
      S3OperationError,
    );
  });
});

describe("keys", () => {
  const { client } = stubClient(() => ({ ETag: '"e"' }));
  const store = createS3ObjectStore({ bucket: "b", client, prefix: "pre/" });

  it.each([
    ["empty", ""],
    ["with NUL", "a\0b"],
    ["with a lone surrogate", "a\ud800b"],
    ["longer than 1,024 UTF-8 bytes with the prefix", "é".repeat(511)],
  ])("refuses a key %s with InvalidKeyError, in every operation", async (_, key) => {
    await expect(store.put(key, "x")).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(store.head(key)).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(store.delete(key)).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(store.copy(key, "ok")).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(store.copy("ok", key)).rejects.toBeInstanceOf(InvalidKeyError);
    expect(() => store.get(key)).toThrow(InvalidKeyError);
  });

  it("accepts the longest key S3 allows", async () => {
    await expect(store.put("é".repeat(510), "x")).resolves.toEqual({ etag: "e" });
  });

  it("accepts what S3 stores as ordinary keys: .., a leading /, //, backslash, a trailing /", async () => {
    for (const key of ["../x", "/abs", "a//b", "a\\b", "folder/", "."]) {
      await expect(store.put(key, "x")).resolves.toEqual({ etag: "e" });
    }
  });

  it("refuses a list prefix with NUL", () => {
    expect(() => store.list("a\0")).toThrow(InvalidKeyError);
  });
});

describe("etags", () => {
  it("drops S3's quotes", () => {
    expect(unquoteEtag('"abc-3"')).toBe("abc-3");
    expect(unquoteEtag("abc")).toBe("abc");
    expect(unquoteEtag(undefined)).toBe("");
  });

  it("decodes S3's url encoding type like a form (space as +)", () => {
    expect(decodeListedKey("a+b%2B", "url")).toBe("a b+");
  });
});
