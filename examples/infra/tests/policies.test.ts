// The IAM policies of examples/infra: valid JSON, named actions only, ARNs or the
// placeholders the README documents.
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const DIR = fileURLToPath(new URL("../policies/", import.meta.url));
const README = readFileSync(fileURLToPath(new URL("../README.md", import.meta.url)), "utf8");

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource?: string | string[];
  Principal?: unknown;
}
interface Policy {
  Version: string;
  Statement: Statement[];
}

const list = (value: string | string[] | undefined) =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];
const files = readdirSync(DIR).filter((f) => f.endsWith(".json"));
const policy = (file: string) => JSON.parse(readFileSync(`${DIR}${file}`, "utf8")) as Policy;
const permissions = files.filter((f) => f !== "lambda-trust.json");
const actionsOf = (file: string) => policy(file).Statement.flatMap((s) => list(s.Action));

/** Placeholders documented in the README's table: `| \`NAME\` | ...`. */
const documented = new Set([...README.matchAll(/^\| `([A-Z_]+)` *\|/gm)].map((m) => m[1]));

describe("examples/infra policies", () => {
  it("are all there, each parsing as an IAM policy of version 2012-10-17", () => {
    expect(files.sort()).toEqual([
      "lambda-trust.json",
      "mwaa-execution-role-invoke-stage.json",
      "stage-lambda.json",
      "trigger-lambda-mwaa-cli.json",
      "trigger-lambda-mwaa-rest.json",
    ]);
    for (const file of files) {
      const p = policy(file);
      expect(p.Version, file).toBe("2012-10-17");
      expect(p.Statement.length, file).toBeGreaterThan(0);
      for (const s of p.Statement) expect(s.Effect, file).toBe("Allow");
    }
    for (const file of files) expect(README, `README links ${file}`).toContain(`policies/${file}`);
  });

  it("name every action: no wildcard actions", () => {
    for (const file of files) {
      for (const action of actionsOf(file)) {
        expect(action, file).toMatch(/^[a-z0-9-]+:[A-Za-z]+$/);
      }
    }
  });

  it("grant on ARNs whose placeholders the README documents, never on '*'", () => {
    expect(documented).toEqual(
      new Set([
        "REGION",
        "ACCOUNT_ID",
        "BUCKET",
        "STAGE_FUNCTION",
        "TRIGGER_FUNCTION",
        "TOPIC_NAME",
        "ENV_NAME",
      ]),
    );
    for (const file of permissions) {
      for (const statement of policy(file).Statement) {
        const resources = list(statement.Resource);
        expect(resources.length, `${file} ${statement.Sid}`).toBeGreaterThan(0);
        for (const resource of resources) {
          expect(resource, file).toMatch(/^arn:aws:(s3|dynamodb|sns|logs|airflow|lambda):/);
          // Upper-case words standing alone (not inside a table name like MusicStreamingKPIs).
          for (const token of resource.match(/(?<![A-Za-z])[A-Z][A-Z_]+(?![A-Za-z])/g) ?? []) {
            expect(documented.has(token), `${file}: ${token} in ${resource}`).toBe(true);
          }
          // A wildcard only at the end, under something named (a prefix, a function, a log group).
          const star = resource.indexOf("*");
          expect(star, resource).toBeOneOf([-1, resource.length - 1]);
          if (star !== -1) {
            expect(resource.slice(0, star), resource).not.toMatch(
              /(::|:::|:ACCOUNT_ID:|\/data\/|table\/|function:|log-group:|environment\/|role\/)$/,
            );
          }
        }
      }
    }
  });

  it("give the stage Lambda exactly the table actions the adapters call, and no table management", () => {
    const actions = new Set(actionsOf("stage-lambda.json"));
    for (const needed of [
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:UpdateItem",
      "dynamodb:DeleteItem",
      "dynamodb:Query",
      "dynamodb:ConditionCheckItem",
      "dynamodb:BatchWriteItem",
      "s3:GetObject",
      "s3:PutObject",
      "s3:DeleteObject",
      "s3:ListBucket",
      "sns:Publish",
    ]) {
      expect(actions.has(needed), needed).toBe(true);
    }
    for (const never of [
      "dynamodb:CreateTable",
      "dynamodb:DeleteTable",
      "dynamodb:Scan",
      "cloudwatch:PutMetricData",
    ]) {
      expect(actions.has(never), never).toBe(false);
    }
  });

  it("give each table the stage Lambda uses exactly the actions its adapter calls there", () => {
    const byTable = new Map<string, Set<string>>();
    for (const statement of policy("stage-lambda.json").Statement) {
      for (const resource of list(statement.Resource)) {
        const table = /:table\/([A-Za-z0-9_.-]+)$/.exec(resource)?.[1];
        if (table === undefined) continue;
        const actions = byTable.get(table) ?? new Set<string>();
        for (const action of list(statement.Action)) actions.add(action.replace("dynamodb:", ""));
        byTable.set(table, actions);
      }
    }
    const sorted = (table: string) => [...(byTable.get(table) ?? [])].sort();
    expect([...byTable.keys()].sort()).toEqual([
      "FileValidationMetadata",
      "MusicStreamingKPIs",
      "MusicpipeDayStates",
      "MusicpipePartials",
      "TopGenresByDay",
      "TopSongsByGenre",
    ]);
    expect(sorted("FileValidationMetadata")).toEqual(["GetItem", "PutItem"]);
    expect(sorted("TopGenresByDay")).toEqual(["ConditionCheckItem", "GetItem", "UpdateItem"]);
    expect(sorted("MusicStreamingKPIs")).toEqual(["DeleteItem", "PutItem", "Query"]);
    expect(sorted("TopSongsByGenre")).toEqual(["DeleteItem", "PutItem", "Query"]);
    expect(sorted("MusicpipePartials")).toEqual(["BatchWriteItem", "DeleteItem", "PutItem", "Query"]);
    expect(sorted("MusicpipeDayStates")).toEqual(["GetItem", "PutItem"]);
  });

  it("let the stage Lambda delete only moved streams files, merged partials and stale day states", () => {
    const statements = policy("stage-lambda.json").Statement;
    const on = (action: string) =>
      statements.filter((s) => list(s.Action).includes(action)).flatMap((s) => list(s.Resource));
    expect(on("s3:DeleteObject").sort()).toEqual([
      "arn:aws:s3:::BUCKET/data/partials/*",
      "arn:aws:s3:::BUCKET/data/raw/streams/*",
      "arn:aws:s3:::BUCKET/data/state/days/*",
    ]);
    // Partials, day states and compiled catalogs are read and written as blobs.
    for (const action of ["s3:GetObject", "s3:PutObject"]) {
      expect(on(action)).toContain("arn:aws:s3:::BUCKET/data/partials/*");
      expect(on(action)).toContain("arn:aws:s3:::BUCKET/data/state/*");
    }
  });

  it("let MWAA invoke only the stage function, and the triggers only trigger", () => {
    expect(actionsOf("mwaa-execution-role-invoke-stage.json")).toEqual(["lambda:InvokeFunction"]);
    expect(
      policy("mwaa-execution-role-invoke-stage.json").Statement.flatMap((s) => list(s.Resource)),
    ).toEqual([
      "arn:aws:lambda:REGION:ACCOUNT_ID:function:STAGE_FUNCTION",
      "arn:aws:lambda:REGION:ACCOUNT_ID:function:STAGE_FUNCTION:*",
    ]);
    expect(new Set(actionsOf("trigger-lambda-mwaa-rest.json"))).toEqual(
      new Set(["airflow:InvokeRestApi", "logs:CreateLogStream", "logs:PutLogEvents"]),
    );
    expect(new Set(actionsOf("trigger-lambda-mwaa-cli.json"))).toEqual(
      new Set(["airflow:CreateCliToken", "logs:CreateLogStream", "logs:PutLogEvents"]),
    );
  });

  it("let only the Lambda service assume the Lambda roles", () => {
    expect(policy("lambda-trust.json").Statement).toEqual([
      expect.objectContaining({
        Effect: "Allow",
        Principal: { Service: "lambda.amazonaws.com" },
        Action: "sts:AssumeRole",
      }),
    ]);
  });
});
