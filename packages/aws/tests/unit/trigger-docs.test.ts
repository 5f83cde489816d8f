// docs/trigger.md: its IAM policies are valid JSON granting only what the triggers call, and the
// code it quotes from examples/ is the code that is built and tested.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = (path: string) => fileURLToPath(new URL(`../../../../${path}`, import.meta.url));
const page = readFileSync(root("docs/trigger.md"), "utf8");
const blocks = (lang: string) =>
  [...page.matchAll(new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``, "g"))].map((m) => m[1] ?? "");

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
}

const list = (value: string | string[]) => (Array.isArray(value) ? value : [value]);

describe("docs/trigger.md", () => {
  it("has two IAM policies, valid JSON, each granting one MWAA action on one named resource", () => {
    const policies = blocks("json").map(
      (block) => JSON.parse(block) as { Version: string; Statement: Statement[] },
    );
    expect(policies).toHaveLength(2);
    const grants = policies.flatMap((policy) => {
      expect(policy.Version).toBe("2012-10-17");
      return policy.Statement.flatMap((statement) => {
        expect(statement.Effect).toBe("Allow");
        return list(statement.Action).flatMap((action) =>
          list(statement.Resource).map((resource) => [action, resource]),
        );
      });
    });
    expect(grants).toEqual([
      ["airflow:CreateCliToken", "arn:aws:airflow:REGION:ACCOUNT_ID:environment/ENV_NAME"],
      ["airflow:InvokeRestApi", "arn:aws:airflow:REGION:ACCOUNT_ID:role/ENV_NAME/User"],
    ]);
  });

  it("quotes examples/ verbatim", () => {
    const quoted = blocks("ts").filter((block) => block.startsWith("// examples/"));
    expect(quoted.length).toBeGreaterThan(0);
    for (const block of quoted) {
      const [marker, ...code] = block.split("\n");
      const source = readFileSync(root((marker as string).slice(3).trim()), "utf8");
      expect(source).toContain(code.join("\n"));
    }
  });
});
