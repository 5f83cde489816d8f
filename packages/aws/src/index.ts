/**
 * `@musicpipe/aws`: AWS adapters for the musicpipe ports. Import an adapter from its subpath
 * (`@musicpipe/aws/s3`, `/dynamodb`, `/airflow`, `/lambda`, `/sns`, `/metrics`) to keep Lambda
 * bundles small; this entry re-exports them all.
 *
 * @packageDocumentation
 *
 * @module @musicpipe/aws
 */
export * from "./airflow/index.js";
export * from "./dynamodb/index.js";
export * from "./lambda/index.js";
export * from "./metrics/index.js";
export * from "./s3/index.js";
export * from "./sns/index.js";
