/**
 * `@musicpipe/aws/s3`: the S3 adapter of the `ObjectStore` port. See docs/aws-s3.md.
 *
 * @packageDocumentation
 *
 * @module @musicpipe/aws/s3
 */
export { S3OperationError } from "./errors.js";
export { createS3ObjectStore } from "./object-store.js";
export type { S3ObjectStoreOptions } from "./options.js";
