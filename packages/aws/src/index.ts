/**
 * `@musicpipe/aws`: AWS adapters for the musicpipe ports. Import an adapter from its subpath
 * (`@musicpipe/aws/s3`, `@musicpipe/aws/dynamodb`) to keep Lambda bundles small; this entry
 * re-exports them all.
 *
 * @packageDocumentation
 */
export * from "./dynamodb/index.js";
export * from "./s3/index.js";
