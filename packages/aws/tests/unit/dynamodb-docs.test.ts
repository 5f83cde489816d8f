import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const page = readFileSync(
  fileURLToPath(new URL("../../../../docs/aws-dynamodb.md", import.meta.url)),
  "utf8",
);
const jsonBlocks = [...page.matchAll(/```json\n([\s\S]*?)```/g)].map((match) => match[1] ?? "");

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
}

const ALLOWED = new Set([
  "dynamodb:GetItem",
  "dynamodb:PutItem",
  "dynamodb:UpdateItem",
  "dynamodb:DeleteItem",
  "dynamodb:Query",
  "dynamodb:Scan",
  "dynamodb:BatchWriteItem",
  "dynamodb:ConditionCheckItem",
  "dynamodb:DescribeTable",
  "dynamodb:CreateTable",
]);

const list = (value: string | string[]) => (Array.isArray(value) ? value : [value]);

describe("docs/aws-dynamodb.md", () => {
  it("has IAM policies, all valid JSON", () => {
    expect(jsonBlocks.length).toBeGreaterThanOrEqual(3);
    for (const block of jsonBlocks) expect(() => JSON.parse(block)).not.toThrow();
  });

  it("grants only DynamoDB item and setup actions, on named tables", () => {
    for (const block of jsonBlocks) {
      const policy = JSON.parse(block) as { Version: string; Statement: Statement[] };
      expect(policy.Version).toBe("2012-10-17");
      for (const statement of policy.Statement) {
        expect(statement.Effect).toBe("Allow");
        for (const action of list(statement.Action)) expect(ALLOWED.has(action), action).toBe(true);
        for (const resource of list(statement.Resource)) {
          expect(resource).toMatch(
            /^arn:aws:dynamodb:REGION:ACCOUNT_ID:table\/[A-Za-z0-9_.-]+(\/index\/[A-Za-z0-9_.-]+)?$/,
          );
        }
      }
    }
  });

  it("keeps table creation out of the pipeline policy", () => {
    const pipeline = JSON.parse(jsonBlocks[0] ?? "{}") as { Statement: Statement[] };
    const actions = pipeline.Statement.flatMap((s) => list(s.Action));
    expect(actions).not.toContain("dynamodb:CreateTable");
    expect(actions).not.toContain("dynamodb:DescribeTable");
    for (const needed of [
      "GetItem",
      "PutItem",
      "UpdateItem",
      "DeleteItem",
      "Query",
      "Scan",
      "ConditionCheckItem",
    ]) {
      expect(actions).toContain(`dynamodb:${needed}`);
    }
  });
});
