/**
 * `@musicpipe/aws/sns`: the `Notifier` port on Amazon SNS. See docs/observability.md.
 *
 * @packageDocumentation
 *
 * @module @musicpipe/aws/sns
 */
export {
  createSnsNotifier,
  noticeBody,
  noticeSubject,
  type SnsNoticeBody,
  type SnsNotifierOptions,
  SnsPublishError,
} from "./notifier.js";
