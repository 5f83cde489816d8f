// docs/trigger.md: its IAM policies are valid JSON granting only what the triggers call, and the
// code it quotes from examples/ is the code that is built and tested.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = (path: string) => fileURLToPath(new URL(`../../../../${path}`, import.meta.url));
const page = readFileSync(root("docs/trigger.md"), "utf8");
/** The fenced blocks of language `lang`, with the words after it (` ```ts fragment file=... `). */
const fenced = (lang: string) =>
  [...page.matchAll(new RegExp(`\`\`\`${lang}(?:[ \\t]+([^\\n]*))?\\n([\\s\\S]*?)\`\`\``, "g"))].map((m) => ({
    words: (m[1] ?? "").trim().split(/\s+/),
    code: m[2] ?? "",
  }));
const blocks = (lang: string) => fenced(lang).map((b) => b.code);

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
    // A quoting block names its file in its fence: ```ts fragment file=examples/...
    const quoted = fenced("ts").flatMap(({ words, code }) => {
      const file = words.find((w) => w.startsWith("file=examples/"))?.slice("file=".length);
      return file === undefined ? [] : [{ file, code }];
    });
    expect(quoted.length).toBeGreaterThan(0);
    for (const { file, code } of quoted) {
      expect(readFileSync(root(file), "utf8"), file).toContain(code);
    }
  });
});
