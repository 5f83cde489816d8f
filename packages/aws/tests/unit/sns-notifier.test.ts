// The SNS notifier with a stub client whose `send` records the commands it gets.
import type { SNSClient } from "@aws-sdk/client-sns";
import { createSnsNotifier, noticeSubject, SnsPublishError } from "@musicpipe/aws/sns";
import { ConfigurationError, type FailureNotice } from "@musicpipe/core";
import { describe, expect, it } from "vitest";

type Input = Record<string, unknown> & {
  Subject?: string;
  Message?: string;
  MessageAttributes?: Record<string, { DataType: string; StringValue: string }>;
};

function stubClient(fail?: Error) {
  const sent: { name: string; input: Input }[] = [];
  const client = {
    async send(command: { constructor: { name: string }; input: Input }) {
      sent.push({ name: command.constructor.name, input: command.input });
      if (fail !== undefined) throw fail;
      return { MessageId: "m-1" };
    },
  } as unknown as SNSClient;
  return { client, sent };
}

const TOPIC = "arn:aws:sns:eu-west-1:123456789012:musicpipe-failures";
const notice: FailureNotice = {
  fileKey: "data/raw/streams/2025-06-22_streams.csv",
  stage: "validate",
  code: "missing_column",
  message: "data/raw/streams/2025-06-22_streams.csv: header lacks required column 'listen_time'",
  runId: "s3__b__k__etag",
};

describe("createSnsNotifier", () => {
  it("publishes one message per notice: JSON body, short subject, stage and code attributes", async () => {
    const { client, sent } = stubClient();
    await createSnsNotifier({ topicArn: TOPIC, client }).notify(notice);
    expect(sent).toHaveLength(1);
    const [{ name, input }] = sent as [(typeof sent)[number]];
    expect(name).toBe("PublishCommand");
    expect(input.TopicArn).toBe(TOPIC);
    expect(input.Subject).toBe("musicpipe: validate failed (missing_column): 2025-06-22_streams.csv");
    expect(input.MessageAttributes).toEqual({
      stage: { DataType: "String", StringValue: "validate" },
      code: { DataType: "String", StringValue: "missing_column" },
    });
    expect(input.MessageGroupId).toBeUndefined();
    const body = JSON.parse(input.Message ?? "");
    expect(body).toEqual({
      source: "musicpipe",
      type: "stage_failure",
      fileKey: notice.fileKey,
      stage: "validate",
      code: "missing_column",
      message: notice.message,
      runId: "s3__b__k__etag",
      time: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
    });
  });

  it("sends only the notice's own fields, so nothing else (no user name) can ride along", async () => {
    const { client, sent } = stubClient();
    const withExtra = {
      ...notice,
      runId: undefined,
      user_name: "Ann Example",
      userName: "Ann",
    } as FailureNotice;
    await createSnsNotifier({ topicArn: TOPIC, client }).notify(withExtra);
    const text = JSON.stringify(sent[0]?.input);
    expect(text).not.toMatch(/Ann|user_?name/i);
    expect(Object.keys(JSON.parse(sent[0]?.input.Message ?? "")).sort()).toEqual(
      ["code", "fileKey", "message", "source", "stage", "time", "type"].sort(),
    );
  });

  it("keeps subjects within SNS's 100 printable ASCII characters", () => {
    const long = { ...notice, fileKey: `data/raw/streams/${"é".repeat(40)}_${"x".repeat(150)}.csv` };
    const subject = noticeSubject("musicpipe", long);
    expect(subject.length).toBeLessThanOrEqual(100);
    expect(subject).toMatch(/^[\x20-\x7e]+$/);
    expect(subject.startsWith("musicpipe: validate failed (missing_column): ...")).toBe(true);
    expect(subject.endsWith("x.csv")).toBe(true);
    const weird = noticeSubject("musicpipe", { ...notice, code: "c\n".repeat(80), fileKey: "a\r\nb.csv" });
    expect(weird.length).toBeLessThanOrEqual(100);
    expect(weird).toMatch(/^[\x20-\x7e]+$/);
  });

  it("caps a very long message", async () => {
    const { client, sent } = stubClient();
    await createSnsNotifier({ topicArn: TOPIC, client }).notify({ ...notice, message: "m".repeat(100_000) });
    expect(JSON.parse(sent[0]?.input.Message ?? "").message).toHaveLength(4096);
  });

  it("gives FIFO topics a message group per file and a deduplication id per notice", async () => {
    const { client, sent } = stubClient();
    const notifier = createSnsNotifier({ topicArn: `${TOPIC}.fifo`, client });
    await notifier.notify(notice);
    await notifier.notify(notice);
    await notifier.notify({ ...notice, stage: "load" });
    const [a, b, c] = sent.map((s) => s.input);
    expect(a?.MessageGroupId).toMatch(/^[0-9a-f]{64}$/);
    expect(c?.MessageGroupId).toBe(a?.MessageGroupId);
    expect(b?.MessageDeduplicationId).toBe(a?.MessageDeduplicationId);
    expect(c?.MessageDeduplicationId).not.toBe(a?.MessageDeduplicationId);
  });

  it("rejects with SnsPublishError, the SDK error as cause, when SNS refuses", async () => {
    const denied = Object.assign(new Error("not authorized"), { name: "AuthorizationErrorException" });
    const { client } = stubClient(denied);
    const error = await createSnsNotifier({ topicArn: TOPIC, client })
      .notify(notice)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SnsPublishError);
    expect((error as SnsPublishError).code).toBe("sns_error");
    expect((error as SnsPublishError).cause).toBe(denied);
    expect((error as Error).message).toMatch(/AuthorizationErrorException/);
  });

  it("checks its options at construction", () => {
    const { client } = stubClient();
    for (const topicArn of [
      "",
      "musicpipe-failures",
      "arn:aws:sqs:eu-west-1:123456789012:q",
      "arn:aws:sns:eu-west-1:1234:t",
    ]) {
      expect(() => createSnsNotifier({ topicArn, client }), topicArn).toThrow(ConfigurationError);
    }
    expect(() => createSnsNotifier(undefined as never)).toThrow(ConfigurationError);
    expect(() => createSnsNotifier({ topicArn: TOPIC, client: {} as SNSClient })).toThrow(/'client'/);
    expect(() => createSnsNotifier({ topicArn: TOPIC, subjectPrefix: "" })).toThrow(/subjectPrefix/);
    expect(() => createSnsNotifier({ topicArn: "arn:aws-cn:sns:cn-north-1:123456789012:t" })).not.toThrow();
    expect(() =>
      createSnsNotifier({ topicArn: "arn:aws-us-gov:sns:us-gov-west-1:123456789012:t" }),
    ).not.toThrow();
  });
});
