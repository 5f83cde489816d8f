import { ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { CreateBucketCommand, ListBucketsCommand } from "@aws-sdk/client-s3";
import { describe, expect, it } from "vitest";
import { localDynamoDbClient, localS3Client, uniqueName } from "./clients.js";

describe("the local servers", () => {
  it("DynamoDB Local answers", async () => {
    const out = await localDynamoDbClient().send(new ListTablesCommand({}));
    expect(Array.isArray(out.TableNames)).toBe(true);
  });

  it("s3rver creates and lists a bucket", async () => {
    const s3 = localS3Client();
    const bucket = uniqueName("smoke");
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const out = await s3.send(new ListBucketsCommand({}));
    expect(out.Buckets?.map((b) => b.Name)).toContain(bucket);
  });
});
