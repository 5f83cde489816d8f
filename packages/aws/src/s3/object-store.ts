import { Readable } from "node:stream";
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import {
  ConditionFailedError,
  ConfigurationError,
  type ObjectBody,
  type ObjectInfo,
  ObjectNotFoundError,
  type ObjectStore,
} from "@musicpipe/core";
import { isInvalidRange, isNotFound, mapS3Error } from "./errors.js";
import {
  checkKey,
  checkPrefix,
  copySource,
  decodeListedKey,
  quoteEtag,
  rangeHeader,
  unquoteEtag,
} from "./keys.js";
import { multipartCopy } from "./multipart-copy.js";
import { resolveOptions, type S3ObjectStoreOptions } from "./options.js";

/**
 * An {@link ObjectStore} over an S3 bucket (or an S3-compatible server).
 *
 * - `get` streams the response body chunk by chunk as it arrives; nothing is buffered whole.
 *   A range becomes a `Range: bytes=first-last` header; a range starting at or beyond the
 *   end of the object yields no bytes, like the memory store.
 * - `put` sends a buffer or string as one PutObject, and a stream (`AsyncIterable`) through
 *   lib-storage's `Upload`: one PutObject when it is shorter than `uploadPartSizeBytes`, a
 *   multipart upload otherwise (aborted on failure).
 * - `copy` heads the source first (size, etag). Up to `multipartCopyThresholdBytes` (5 GiB)
 *   it is one CopyObject; above, a multipart copy with UploadPartCopy, so objects of any size
 *   copy. With `ifMatch`, the etag is compared with the head's before copying, and sent as
 *   `x-amz-copy-source-if-match` so that on AWS the check and the copy are atomic (a 412 is
 *   `ConditionFailedError`). Copying an object onto itself returns its etag unchanged.
 * - `list` pages through ListObjectsV2 (1,000 keys a page) with continuation tokens, in S3's
 *   UTF-8 byte order, and asks for URL-encoded keys so keys XML cannot carry survive.
 * - Keys are refused (`InvalidKeyError`) only when S3 could not store them as given: empty,
 *   with NUL, a lone surrogate, or over 1,024 UTF-8 bytes with the prefix.
 * - Errors: a missing object is `ObjectNotFoundError` (get, copy source) or `undefined`
 *   (head); anything else S3 refuses is an `S3OperationError` with the SDK error as `cause`.
 *   Throttling and 5xx answers are first retried by the client's retry strategy (the SDK's
 *   standard one, 3 attempts, unless the client you pass says otherwise).
 * - The etag is S3's ETag without quotes: the MD5 of the content for single-part uploads
 *   without SSE-KMS, `<md5>-<parts>` for multipart uploads and multipart copies.
 *
 * @example
 * import { S3Client } from "@aws-sdk/client-s3";
 * import { createS3ObjectStore } from "@musicpipe/aws/s3";
 *
 * const store = createS3ObjectStore({ bucket: "my-music-bucket", client: new S3Client({ maxAttempts: 5 }) });
 * await store.put("data/raw/streams/s1.csv", "user_id,track_id,listen_time\n");
 * for await (const info of store.list("data/raw/streams/")) console.log(info.key, info.size);
 */
export function createS3ObjectStore(options: S3ObjectStoreOptions): ObjectStore {
  const resolved = resolveOptions(options);
  const { client, bucket, prefix } = resolved;
  const s3Key = (key: string): string => prefix + key;
  const where = (key: string) => ({ bucket, key, s3Key: s3Key(key) });

  /** HeadObject's answer, or `undefined` when there is no object at the key. */
  async function headObject(key: string): Promise<HeadObjectCommandOutput | undefined> {
    try {
      return await client.send(new HeadObjectCommand({ Bucket: bucket, Key: s3Key(key) }));
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw mapS3Error(error, "HeadObject", where(key));
    }
  }

  /** The etag S3 answered with, or the object's current one when the answer had none. */
  async function etagOr(key: string, answered: string | undefined): Promise<string> {
    const etag = unquoteEtag(answered);
    if (etag !== "") return etag;
    return unquoteEtag((await headObject(key))?.ETag);
  }

  async function putStream(key: string, body: AsyncIterable<Uint8Array>, contentType: string | undefined) {
    if (typeof (body as { [Symbol.asyncIterator]?: unknown })?.[Symbol.asyncIterator] !== "function") {
      throw new ConfigurationError(
        `put of '${key}': the body must be a Uint8Array, a string or an AsyncIterable of Uint8Array`,
      );
    }
    const stream = Readable.from(body);
    const upload = new Upload({
      client,
      params: { Bucket: bucket, Key: s3Key(key), Body: stream, ContentType: contentType },
      partSize: resolved.uploadPartSizeBytes,
      queueSize: resolved.uploadQueueSize,
      leavePartsOnError: false,
    });
    try {
      return (await upload.done()).ETag;
    } catch (error) {
      // Stops the caller's iterable too (its `return()` runs), so nothing keeps producing.
      stream.destroy();
      throw mapS3Error(error, "Upload", where(key));
    }
  }

  async function copyObject(from: string, to: string, ifMatch: string | undefined, etag: string) {
    try {
      const out = await client.send(
        new CopyObjectCommand({
          Bucket: bucket,
          Key: s3Key(to),
          CopySource: copySource(bucket, s3Key(from)),
          CopySourceIfMatch: ifMatch === undefined ? undefined : quoteEtag(ifMatch),
        }),
      );
      return out.CopyObjectResult?.ETag;
    } catch (error) {
      throw mapS3Error(error, "CopyObject", where(to), {
        notFoundKey: from,
        conditionMessage: `copy of '${from}' to '${to}' refused: the source's etag is no longer '${ifMatch ?? etag}'`,
      });
    }
  }

  /**
   * Copies through this process, streaming: GetObject pinned to `etag` (If-Match), uploaded
   * with lib-storage. Used when a server cannot resolve a CopySource (see {@link copy}).
   */
  async function streamCopy(from: string, to: string, etag: string): Promise<string | undefined> {
    let body: unknown;
    try {
      const out = await client.send(
        new GetObjectCommand({ Bucket: bucket, Key: s3Key(from), IfMatch: quoteEtag(etag) }),
      );
      body = out.Body;
    } catch (error) {
      throw mapS3Error(error, "GetObject", where(from), {
        notFoundKey: from,
        conditionMessage: `copy of '${from}' to '${to}' refused: the source's etag is no longer '${etag}'`,
      });
    }
    const chunks = (body ?? []) as AsyncIterable<Uint8Array>;
    return putStream(to, chunks, undefined);
  }

  return {
    get(key, getOptions) {
      checkKey(key, prefix);
      const range = rangeHeader(getOptions?.range);
      return (async function* () {
        if (range === "empty") {
          if ((await headObject(key)) === undefined) throw new ObjectNotFoundError(key);
          return;
        }
        let body: unknown;
        try {
          const out = await client.send(
            new GetObjectCommand({ Bucket: bucket, Key: s3Key(key), Range: range }),
          );
          body = out.Body;
        } catch (error) {
          // 416: the range starts at or beyond the end (the object exists, or it would be a 404).
          if (range !== undefined && isInvalidRange(error)) return;
          throw mapS3Error(error, "GetObject", where(key), { notFoundKey: key });
        }
        if (body === undefined || body === null) return;
        try {
          // In Node the body is an IncomingMessage: its chunks go out as they arrive, and
          // leaving the loop early (a consumer's break) destroys it, freeing the socket.
          for await (const chunk of body as AsyncIterable<Uint8Array>) yield chunk;
        } catch (error) {
          throw mapS3Error(error, "GetObject", where(key));
        }
      })();
    },

    async head(key) {
      checkKey(key, prefix);
      const out = await headObject(key);
      if (out === undefined) return undefined;
      return {
        key,
        size: out.ContentLength ?? 0,
        etag: unquoteEtag(out.ETag),
        lastModified: out.LastModified ?? new Date(0),
      };
    },

    async put(key: string, body: ObjectBody, putOptions) {
      checkKey(key, prefix);
      const contentType = putOptions?.contentType;
      let answered: string | undefined;
      if (typeof body === "string" || body instanceof Uint8Array) {
        try {
          const out = await client.send(
            new PutObjectCommand({ Bucket: bucket, Key: s3Key(key), Body: body, ContentType: contentType }),
          );
          answered = out.ETag;
        } catch (error) {
          throw mapS3Error(error, "PutObject", where(key));
        }
      } else {
        answered = await putStream(key, body, contentType);
      }
      return { etag: await etagOr(key, answered) };
    },

    async copy(from, to, copyOptions) {
      checkKey(from, prefix);
      checkKey(to, prefix);
      const ifMatch = copyOptions?.ifMatch;
      const source = await headObject(from);
      if (source === undefined) throw new ObjectNotFoundError(from);
      const etag = unquoteEtag(source.ETag);
      // S3 checks ifMatch itself (atomically, below); checking here too keeps the contract on
      // servers that ignore x-amz-copy-source-if-match, and spares a doomed copy.
      if (ifMatch !== undefined && unquoteEtag(ifMatch) !== etag) {
        throw new ConditionFailedError(
          `copy of '${from}' to '${to}' refused: the source's etag is '${etag}', not '${ifMatch}'`,
          { file: from },
        );
      }
      // S3 refuses to copy an object onto itself unchanged; it already is its own copy.
      if (from === to) return { etag };
      const size = source.ContentLength ?? 0;
      const answered =
        size > resolved.multipartCopyThresholdBytes
          ? await multipartCopy(resolved, {
              from,
              to,
              sourceS3Key: s3Key(from),
              targetS3Key: s3Key(to),
              source,
              etag,
            })
          : await copyObject(from, to, ifMatch, etag).catch((error: unknown) => {
              // The source was just found by HeadObject, so a NoSuchKey here means the server
              // could not resolve the CopySource: s3rver fails so for keys holding
              // + & = # ? , ; : @ $ encoded as AWS documents. Copy through this process then,
              // pinned to the same etag. On AWS this path is not taken.
              if (!(error instanceof ObjectNotFoundError)) throw error;
              return streamCopy(from, to, etag);
            });
      return { etag: await etagOr(to, answered) };
    },

    async delete(key, deleteOptions) {
      checkKey(key, prefix);
      const ifMatch = deleteOptions?.ifMatch;
      if (ifMatch !== undefined) {
        // Checked by HeadObject first (the window until the delete is one round trip): a key
        // holding another etag is a new delivery and stays.
        const found = await headObject(key);
        if (found === undefined) return;
        const etag = unquoteEtag(found.ETag);
        if (etag !== ifMatch)
          throw new ConditionFailedError(
            `delete of '${key}' refused: its etag is '${etag}', not '${ifMatch}'`,
            { file: key },
          );
      }
      try {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: s3Key(key) }));
      } catch (error) {
        if (isNotFound(error)) return;
        throw mapS3Error(error, "DeleteObject", where(key));
      }
    },

    list(listPrefix) {
      checkPrefix(listPrefix);
      return (async function* (): AsyncGenerator<ObjectInfo> {
        const at = { bucket, key: listPrefix, s3Key: s3Key(listPrefix) };
        let token: string | undefined;
        for (;;) {
          let page: ListObjectsV2CommandOutput;
          try {
            page = await client.send(
              new ListObjectsV2Command({
                Bucket: bucket,
                Prefix: s3Key(listPrefix),
                ContinuationToken: token,
                EncodingType: "url",
              }),
            );
          } catch (error) {
            throw mapS3Error(error, "ListObjectsV2", at);
          }
          for (const object of page.Contents ?? []) {
            if (object.Key === undefined) continue;
            const full = decodeListedKey(object.Key, page.EncodingType);
            // A key equal to the store's prefix (a console "folder" marker) is no store key.
            if (!full.startsWith(prefix) || full.length === prefix.length) continue;
            yield {
              key: full.slice(prefix.length),
              size: object.Size ?? 0,
              etag: unquoteEtag(object.ETag),
              lastModified: object.LastModified ?? new Date(0),
            };
          }
          if (page.IsTruncated !== true) return;
          token = page.NextContinuationToken;
          if (token === undefined || token === "") {
            throw mapS3Error(new Error("a truncated page has no NextContinuationToken"), "ListObjectsV2", at);
          }
        }
      })();
    },
  };
}
