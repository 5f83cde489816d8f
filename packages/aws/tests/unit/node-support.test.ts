import { afterEach, describe, expect, it } from "vitest";
import { SDK_MIN_NODE_MAJOR, sayNodeSupportOnce } from "../../src/lambda/node-support.js";

const SWITCH = "AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED";
const before = process.env[SWITCH];

afterEach(() => {
  if (before === undefined) delete process.env[SWITCH];
  else process.env[SWITCH] = before;
});

describe("sayNodeSupportOnce", () => {
  it("on Node.js 20, says one line once and turns the SDK's own notice off", () => {
    delete process.env[SWITCH];
    const lines: string[] = [];
    expect(sayNodeSupportOnce((l) => lines.push(l), "v20.19.2")).toBe(true);
    expect(sayNodeSupportOnce((l) => lines.push(l), "v20.19.2")).toBe(false);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^Node\.js v20\.19\.2 is past its end of life: .* Node\.js 22 or later$/);
    expect(lines[0]).not.toContain("\n");
    expect(process.env[SWITCH]).toBe("true");
  });

  it(`says nothing and leaves the SDK alone on Node.js ${SDK_MIN_NODE_MAJOR} and later`, () => {
    delete process.env[SWITCH];
    const lines: string[] = [];
    for (const v of ["v22.0.0", "v24.11.1", "v30.1.0"])
      expect(sayNodeSupportOnce((l) => lines.push(l), v)).toBe(false);
    expect(lines).toEqual([]);
    expect(process.env[SWITCH]).toBeUndefined();
  });

  it("leaves a choice the user made with the SDK's variable as it is", () => {
    process.env[SWITCH] = "false";
    const lines: string[] = [];
    expect(sayNodeSupportOnce((l) => lines.push(l), "v20.19.2")).toBe(false);
    expect(lines).toEqual([]);
    expect(process.env[SWITCH]).toBe("false");
  });
});
