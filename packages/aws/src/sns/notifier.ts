import { createHash } from "node:crypto";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { ConfigurationError, type FailureNotice, MusicpipeError, type Notifier } from "@musicpipe/core";

/** Options of {@link createSnsNotifier}. */
export interface SnsNotifierOptions {
  /** The ARN of the topic to publish to (`arn:aws:sns:<region>:<account>:<name>`, `.fifo` allowed). */
  readonly topicArn: string;
  /**
   * The SNS client to call; pass yours to reuse it or to set `region`, `credentials` or
   * `maxAttempts`.
   * @default `new SNSClient({})` in the topic's region: credentials and endpoint from the
   *   standard chain, 3 attempts with the SDK's standard retry strategy.
   */
  readonly client?: SNSClient | undefined;
  /**
   * Starts every subject, to tell several pipelines apart in one mailbox.
   * @default "musicpipe"
   */
  readonly subjectPrefix?: string | undefined;
}

/** The JSON body of a published notice (`Message`). */
export interface SnsNoticeBody {
  readonly source: "musicpipe";
  readonly type: "stage_failure";
  readonly fileKey: string;
  readonly stage: string;
  readonly code: string;
  readonly message: string;
  readonly runId?: string;
  /** When the notice was published, ISO 8601 UTC. */
  readonly time: string;
}

/** Publishing a notice to SNS failed (after the client's retries); the SDK error is the `cause`. */
export class SnsPublishError extends MusicpipeError {
  readonly topicArn: string;
  constructor(topicArn: string, fileKey: string, cause: unknown) {
    const detail = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    super("sns_error", `SNS Publish to '${topicArn}' about '${fileKey}' failed: ${detail}`, {
      cause,
      file: fileKey,
    });
    this.topicArn = topicArn;
  }
}

const TOPIC_ARN =
  /^arn:aws[a-z-]*:sns:([a-z]{2}(?:-[a-z]+)+-\d+):(\d{12}):([A-Za-z0-9_-]{1,256}(?:\.fifo)?)$/;
/** SNS subjects: at most 100 ASCII characters, no line breaks or control characters. */
const MAX_SUBJECT = 100;
/** Messages are limited to 256 KiB; a notice needs far less, so the free text is capped. */
const MAX_MESSAGE_CHARS = 4096;
/** Message attribute values are capped to keep filter policies and e-mails readable. */
const MAX_ATTRIBUTE_CHARS = 256;

/** Printable ASCII only: SNS refuses other characters in subjects. */
function asciiLine(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, "?");
}

function cap(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 3)}...`;
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/** `musicpipe: validate failed (missing_column): s1.csv`, shortened to fit 100 characters. */
export function noticeSubject(prefix: string, notice: FailureNotice): string {
  const head = asciiLine(`${prefix}: ${notice.stage} failed (${notice.code || "error"})`);
  const name = asciiLine(notice.fileKey.slice(notice.fileKey.lastIndexOf("/") + 1));
  const subject = `${head}: ${name}`;
  if (subject.length <= MAX_SUBJECT) return subject;
  if (head.length + 5 >= MAX_SUBJECT) return cap(head, MAX_SUBJECT);
  // Keep the end of the name: it carries the extension and usually the distinguishing part.
  return `${head}: ...${name.slice(name.length - (MAX_SUBJECT - head.length - 5))}`;
}

/** The JSON body of a notice: the notice's own fields only, so no user data rides along. */
export function noticeBody(notice: FailureNotice, time: Date): SnsNoticeBody {
  return {
    source: "musicpipe",
    type: "stage_failure",
    fileKey: notice.fileKey,
    stage: notice.stage,
    code: notice.code || "error",
    message: cap(notice.message, MAX_MESSAGE_CHARS),
    ...(notice.runId === undefined ? {} : { runId: notice.runId }),
    time: time.toISOString(),
  };
}

/**
 * A {@link Notifier} that publishes each failure notice to an SNS topic:
 *
 * - `Message`: the JSON {@link SnsNoticeBody} (`fileKey`, `stage`, `code`, `message`, `runId`,
 *   `time`). Only the notice's fields are sent; a notice never carries user names (stages put
 *   row numbers and ids in messages, never catalog values).
 * - `Subject` (e-mail subscriptions): `<prefix>: <stage> failed (<code>): <file name>`, ASCII,
 *   at most 100 characters.
 * - `MessageAttributes`: `stage` and `code` (strings), for subscription filter policies, e.g.
 *   `{"code": [{"anything-but": ["missing_column"]}]}`.
 * - FIFO topics get a `MessageGroupId` per file key and a `MessageDeduplicationId` from the
 *   body, so the same notice published twice within 5 minutes is delivered once.
 *
 * `notify` rejects with {@link SnsPublishError} when SNS refuses after the client's retries.
 * Options are checked at construction ({@link ConfigurationError}).
 *
 * @example
 * import { createSnsNotifier } from "@musicpipe/aws/sns";
 *
 * const notifier = createSnsNotifier({ topicArn: "arn:aws:sns:eu-west-1:123456789012:musicpipe-failures" });
 * await notifier.notify({ fileKey: "data/raw/streams/s1.csv", stage: "validate", code: "missing_column", message: "..." });
 */
export function createSnsNotifier(options: SnsNotifierOptions): Notifier {
  const where = "createSnsNotifier";
  if (options === null || typeof options !== "object") {
    throw new ConfigurationError(`${where}: options with a 'topicArn' are required`);
  }
  const { topicArn } = options;
  const match = typeof topicArn === "string" ? TOPIC_ARN.exec(topicArn) : null;
  if (match === null) {
    throw new ConfigurationError(
      `${where}: 'topicArn' must be an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>), got ${JSON.stringify(topicArn)}`,
    );
  }
  const fifo = topicArn.endsWith(".fifo");
  const subjectPrefix = options.subjectPrefix ?? "musicpipe";
  if (typeof subjectPrefix !== "string" || subjectPrefix.length === 0 || subjectPrefix.length > 40) {
    throw new ConfigurationError(`${where}: 'subjectPrefix' must be a string of 1-40 characters`);
  }
  if (
    options.client !== undefined &&
    (typeof options.client !== "object" ||
      options.client === null ||
      typeof (options.client as { send?: unknown }).send !== "function")
  ) {
    throw new ConfigurationError(`${where}: 'client' must be an SNSClient`);
  }
  const region = match[1]!;
  let client = options.client;

  return {
    async notify(notice: FailureNotice): Promise<void> {
      const body = JSON.stringify(noticeBody(notice, new Date()));
      const command = new PublishCommand({
        TopicArn: topicArn,
        Subject: noticeSubject(subjectPrefix, notice),
        Message: body,
        MessageAttributes: {
          stage: { DataType: "String", StringValue: cap(notice.stage || "unknown", MAX_ATTRIBUTE_CHARS) },
          code: { DataType: "String", StringValue: cap(notice.code || "error", MAX_ATTRIBUTE_CHARS) },
        },
        ...(fifo
          ? {
              // One group per file (ordered per file); hashed, since keys may hold characters SNS refuses.
              MessageGroupId: sha256(notice.fileKey).slice(0, 64),
              // Without the time: the same notice twice is deduplicated by SNS.
              MessageDeduplicationId: sha256(
                JSON.stringify([notice.fileKey, notice.stage, notice.code, notice.message, notice.runId]),
              ),
            }
          : {}),
      });
      client ??= new SNSClient({ region });
      try {
        await client.send(command);
      } catch (error) {
        throw new SnsPublishError(topicArn, notice.fileKey, error);
      }
    },
  };
}
