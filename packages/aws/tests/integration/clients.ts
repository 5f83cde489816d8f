// SDK clients pointed at the local servers the global setup started.
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { inject } from "vitest";

const credentials = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };

/** An S3 client for s3rver: path-style, and checksums only when required (see docs/aws-s3.md). */
export function localS3Client(): S3Client {
  return new S3Client({
    endpoint: inject("s3Endpoint"),
    region: "us-east-1",
    forcePathStyle: true,
    credentials,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}

export function localDynamoDbClient(): DynamoDBClient {
  return new DynamoDBClient({ endpoint: inject("dynamodbEndpoint"), region: "us-east-1", credentials });
}

/** A unique name for a bucket or table, so tests never share state. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
