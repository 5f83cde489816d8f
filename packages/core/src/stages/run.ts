import pLimit from "p-limit";
import { MusicpipeError } from "../errors/index.js";
import { compareCodePoints } from "../kpi/order.js";
import { isInputKey } from "../layout/index.js";
import type { SkippedEntry } from "../ports/object-store.js";
import type { FileRecord } from "../ports/tables.js";
import type { FileReport } from "../validate/index.js";
import { archiveStage } from "./archive.js";
import type { PipelineContext } from "./context.js";
import { type DateLoad, loadListenDate, loadStage, markLoaded } from "./load.js";
import { currentRecord, isFinished } from "./record.js";
import type { StageName, StageResult } from "./result.js";
import { THREAD_MIN_BYTES } from "./scan.js";
import { transformStage } from "./transform.js";
import { validateStage } from "./validate.js";

/** Listen dates {@link runPending} loads at once. */
const DATE_LOADS = 8;

/** How one file fared in a run. */
export interface FileOutcome {
  readonly fileKey: string;
  /** `archived`: processed and moved; `rejected`: moved to the error prefix; `failed`: a stage threw (retry later). */
  readonly outcome: "archived" | "rejected" | "failed";
  /** The validation result, when validation ran or had run. */
  readonly validation?: StageResult | undefined;
  /** Where the file went. */
  readonly movedTo?: string | undefined;
  /** For `failed`: the stage and the error. */
  readonly error?: { readonly stage: StageName; readonly code: string; readonly message: string } | undefined;
}

/** What {@link runPending} did. */
export interface RunSummary {
  readonly files: readonly FileOutcome[];
  /** Listen dates whose KPIs were (re)computed. */
  readonly dates: readonly DateLoad[];
  /** Reports of the song and user catalog files read. */
  readonly catalogFiles: readonly FileReport[];
  /**
   * Entries under the streams prefix that were not processed, and why: not `.csv` /
   * `.csv.gz` (`not_an_input`), or no object to the store (a local folder's symbolic links,
   * devices, names with a backslash). In key order.
   */
  readonly skipped: readonly SkippedEntry[];
}

/**
 * Runs every stage for one streams file: validate, then (if valid) transform, load and
 * archive. Each stage is idempotent, so running this again after any failure finishes the
 * work without counting anything twice.
 */
export async function runFile(ctx: PipelineContext, key: string): Promise<StageResult[]> {
  const validation = await validateStage(ctx, key);
  if (validation.status !== "SUCCESS") return [validation];
  return [
    validation,
    await transformStage(ctx, key),
    await loadStage(ctx, key),
    await archiveStage(ctx, key),
  ];
}

function failure(fileKey: string, stage: StageName, err: unknown): FileOutcome {
  const code = err instanceof MusicpipeError ? err.code : "error";
  const message = err instanceof Error ? err.message : String(err);
  return { fileKey, outcome: "failed", error: { stage, code, message } };
}

/** A file whose bytes were gone before they could be moved (its record is finished, saying why). */
function lost(fileKey: string, stage: StageName, result: StageResult): FileOutcome {
  return {
    fileKey,
    outcome: "failed",
    validation: stage === "validate" ? result : undefined,
    error: {
      stage,
      code: "file_lost",
      message:
        stage === "validate"
          ? "rejected, but its bytes were gone before they could be moved to the error prefix"
          : (result.message ?? "its bytes were gone before they could be archived"),
    },
  };
}

/**
 * Processes every pending streams file: each object under the streams prefix, plus every
 * record whose work was interrupted after its object left that prefix. Files are validated
 * and transformed (up to `concurrency` at once), then each touched listen date is loaded once,
 * then files are archived. A file whose stage throws is reported as `failed` and left for the
 * next run; the others go on.
 */
export async function runPending(
  ctx: PipelineContext,
  options: {
    readonly concurrency?: number | undefined;
    readonly onFile?: ((outcome: FileOutcome) => void) | undefined;
  } = {},
): Promise<RunSummary> {
  const keys = new Set<string>();
  const skipped: SkippedEntry[] = [];
  const onSkipped = (entry: SkippedEntry) => skipped.push(entry);
  for await (const info of ctx.objects.list(ctx.layout.streams, { onSkipped })) {
    if (!isInputKey(info.key, ctx.layout.streams)) {
      skipped.push({ key: info.key, reason: "not_an_input" });
      continue;
    }
    keys.add(info.key);
    // A file the threads will read: start them while the catalog loads.
    if (info.size >= THREAD_MIN_BYTES) ctx.threads?.warm?.();
  }
  for await (const record of ctx.files.listUnfinished?.() ?? ctx.files.list()) {
    if (record.fileType === "streams" && !isFinished(record)) keys.add(record.fileKey);
  }
  // Loaded while the first files are handed to the threads (they read ahead meanwhile).
  const catalogLoading = ctx.catalog();
  catalogLoading.catch(() => {});
  const limit = pLimit(options.concurrency ?? 1);
  const outcomes = new Map<string, FileOutcome>();
  const validated = new Map<string, StageResult>();
  const report = (outcome: FileOutcome) => {
    outcomes.set(outcome.fileKey, outcome);
    options.onFile?.(outcome);
  };

  // 1-2: validate and transform.
  await Promise.all(
    [...keys].sort(compareCodePoints).map((key) =>
      limit(async () => {
        let stage: StageName = "validate";
        try {
          const validation = await validateStage(ctx, key);
          if (validation.status !== "SUCCESS") {
            report(
              validation.movedTo === undefined
                ? lost(key, "validate", validation)
                : { fileKey: key, outcome: "rejected", validation, movedTo: validation.movedTo },
            );
            return;
          }
          validated.set(key, validation);
          stage = "transform";
          await transformStage(ctx, key);
        } catch (err) {
          validated.delete(key);
          report(failure(key, stage, err));
        }
      }),
    ),
  );

  const { reports: catalogFiles } = await catalogLoading;

  // 3: load each touched date once, then mark the files whose dates all loaded.
  const records = new Map<string, FileRecord>();
  const keysRead = [...validated.keys()];
  const read = await Promise.all(keysRead.map((key) => limit(() => currentRecord(ctx, key))));
  read.forEach((record, i) => {
    if (record !== undefined) records.set(keysRead[i]!, record);
  });
  const pendingDates = new Set<string>();
  for (const record of records.values()) {
    if (record.kpiIngestionStatus === "IN_PROGRESS")
      for (const d of record.listenDates ?? []) pendingDates.add(d);
  }
  const dates: DateLoad[] = [];
  const failedDates = new Map<string, unknown>();
  // Dates are independent: several load at once (their reads and writes overlap).
  const loading = pLimit(DATE_LOADS);
  await Promise.all(
    [...pendingDates].sort().map((listenDate) =>
      loading(async () => {
        try {
          dates.push(await loadListenDate(ctx, listenDate));
        } catch (err) {
          failedDates.set(listenDate, err);
        }
      }),
    ),
  );
  dates.sort((a, b) => (a.listenDate < b.listenDate ? -1 : a.listenDate > b.listenDate ? 1 : 0));

  // 4: archive.
  // Files are independent once their dates are loaded: marked and archived as many at once
  // as they were validated.
  await Promise.all(
    [...records].map(([key, record]) =>
      limit(async () => {
        const failedDate = (record.listenDates ?? []).find((d) => failedDates.has(d));
        if (failedDate !== undefined) {
          report(failure(key, "load", failedDates.get(failedDate)));
          return;
        }
        let stage: StageName = "load";
        try {
          if (record.kpiIngestionStatus === "IN_PROGRESS") await markLoaded(ctx, record);
          stage = "archive";
          const archived = await archiveStage(ctx, key);
          report(
            archived.status === "SUCCESS"
              ? {
                  fileKey: key,
                  outcome: "archived",
                  validation: validated.get(key),
                  movedTo: archived.movedTo,
                }
              : lost(key, "archive", archived),
          );
        } catch (err) {
          report(failure(key, stage, err));
        }
      }),
    ),
  );
  // Keys in code point order (UTF-8 byte order), as object stores list them.
  const files = [...outcomes.values()].sort((a, b) => compareCodePoints(a.fileKey, b.fileKey));
  skipped.sort((a, b) => compareCodePoints(a.key, b.key));
  return { files, dates, catalogFiles, skipped };
}
