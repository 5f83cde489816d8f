// Starts AWS's DynamoDB Local and s3rver for the integration tests, and stops them after.
import type { TestProject } from "vitest/node";
// @ts-expect-error: a plain ES module script without types
import { startDynamoDbLocal, startS3rver } from "../../../../scripts/local-aws.mjs";

declare module "vitest" {
  export interface ProvidedContext {
    dynamodbEndpoint: string;
    s3Endpoint: string;
  }
}

export default async function setup(project: TestProject) {
  const [dynamodb, s3] = await Promise.all([startDynamoDbLocal(), startS3rver()]);
  project.provide("dynamodbEndpoint", dynamodb.endpoint);
  project.provide("s3Endpoint", s3.endpoint);
  return async () => {
    await Promise.all([dynamodb.stop(), s3.stop()]);
  };
}
