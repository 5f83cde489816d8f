import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  type HeadObjectCommandOutput,
  UploadPartCopyCommand,
} from "@aws-sdk/client-s3";
import pLimit from "p-limit";
import { mapS3Error } from "./errors.js";
import { copySource, quoteEtag, unquoteEtag } from "./keys.js";
import { copyParts, type ResolvedS3Options } from "./options.js";

/** What a multipart copy needs to know about its source and destination. */
export interface MultipartCopyRequest {
  /** The store keys, for errors. */
  readonly from: string;
  readonly to: string;
  /** The S3 keys (with the store's prefix). */
  readonly sourceS3Key: string;
  readonly targetS3Key: string;
  /** HeadObject of the source: its size, etag and the metadata the copy keeps. */
  readonly source: HeadObjectCommandOutput;
  /** The etag every part is copied from (the head's, which equals `ifMatch` when given). */
  readonly etag: string;
}

/**
 * Copies an object of any size with a multipart upload: CreateMultipartUpload, one
 * UploadPartCopy per byte range (at most `copyConcurrency` at once), CompleteMultipartUpload.
 * Every part is copied with `x-amz-copy-source-if-match` set to the source's etag, so a
 * source rewritten during the copy fails it (`ConditionFailedError`) instead of producing a
 * mix of two versions. On any failure the upload is aborted, so no parts are left behind.
 * Returns the new object's etag.
 */
export async function multipartCopy(
  options: ResolvedS3Options,
  request: MultipartCopyRequest,
): Promise<string> {
  const { client, bucket } = options;
  const { source, from, to } = request;
  const where = { bucket, key: to, s3Key: request.targetS3Key };
  const size = source.ContentLength ?? 0;

  let uploadId: string | undefined;
  try {
    const created = await client.send(
      new CreateMultipartUploadCommand({
        Bucket: bucket,
        Key: request.targetS3Key,
        // CopyObject keeps the source's metadata; a multipart copy must ask for it.
        ContentType: source.ContentType,
        ContentEncoding: source.ContentEncoding,
        ContentDisposition: source.ContentDisposition,
        ContentLanguage: source.ContentLanguage,
        CacheControl: source.CacheControl,
        Metadata: source.Metadata,
      }),
    );
    uploadId = created.UploadId;
  } catch (error) {
    throw mapS3Error(error, "CreateMultipartUpload", where);
  }
  if (uploadId === undefined || uploadId === "") {
    throw mapS3Error(new Error("the answer has no UploadId"), "CreateMultipartUpload", where);
  }
  const id = uploadId;

  try {
    const limit = pLimit(options.copyConcurrency);
    let failed = false;
    const ranges = copyParts(size, options.copyPartSizeBytes);
    const settled = await Promise.allSettled(
      ranges.map((range, index) =>
        limit(async (): Promise<CompletedPart> => {
          // After a failure, parts still waiting are not started.
          if (failed) throw new Error("skipped after an earlier part failed");
          try {
            const out = await client.send(
              new UploadPartCopyCommand({
                Bucket: bucket,
                Key: request.targetS3Key,
                UploadId: id,
                PartNumber: index + 1,
                CopySource: copySource(bucket, request.sourceS3Key),
                CopySourceRange: `bytes=${range.start}-${range.end - 1}`,
                CopySourceIfMatch: quoteEtag(request.etag),
              }),
            );
            const etag = out.CopyPartResult?.ETag;
            if (etag === undefined) throw new Error(`part ${index + 1} has no ETag in the answer`);
            return { ETag: etag, PartNumber: index + 1 };
          } catch (error) {
            failed = true;
            throw mapS3Error(error, "UploadPartCopy", where, {
              notFoundKey: from,
              conditionMessage:
                `copy of '${from}' to '${to}' failed: the source changed during the multipart copy ` +
                `(its etag is no longer '${request.etag}')`,
            });
          }
        }),
      ),
    );
    const rejected = settled.find((result): result is PromiseRejectedResult => result.status === "rejected");
    if (rejected !== undefined) throw rejected.reason;
    const parts = settled.map((result) => (result as PromiseFulfilledResult<CompletedPart>).value);

    try {
      const done = await client.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: request.targetS3Key,
          UploadId: id,
          MultipartUpload: { Parts: parts },
        }),
      );
      return unquoteEtag(done.ETag);
    } catch (error) {
      throw mapS3Error(error, "CompleteMultipartUpload", where);
    }
  } catch (error) {
    try {
      await client.send(
        new AbortMultipartUploadCommand({ Bucket: bucket, Key: request.targetS3Key, UploadId: id }),
      );
    } catch {
      // The copy's own error matters more; a lifecycle rule (AbortIncompleteMultipartUpload)
      // removes the parts of an upload that could not be aborted.
    }
    throw error;
  }
}
