import { describeError, isRetriable, type TransferError } from "../errors.ts";
import type { PendingDocument } from "../pipeline/document.ts";
import { httpStatus, type BulkFunction } from "./bulk-client.ts";
import { buildBulkBody, invalidAction } from "./bulk-request.ts";
import { classifyResponse, type BulkResponseBody, type ItemOutcome } from "./bulk-response.ts";
import type { FailurePolicy } from "./failure-policy.ts";
import { noopLogger, noopObserver, type BulkOutcome, type RetryReason, type SinkLogger, type SinkObserver } from "./observer.ts";
import { backoffDelay, sleep as abortableSleep, validateRetryOptions, type RetryPolicyOptions } from "./retry-policy.ts";

export interface BulkSenderDeps {
  readonly bulk: BulkFunction;
  readonly failurePolicy: FailurePolicy;
  readonly retry: RetryPolicyOptions;
  readonly observer?: SinkObserver;
  readonly logger?: SinkLogger;
  /** Injectable for tests: jitter source, backoff wait, clock (ms). */
  readonly random?: () => number;
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly now?: () => number;
}

/**
 * How sending a batch ended:
 * - `settled`: every document was acked (indexed, already there, or rejected and
 *   settled by the failure policy);
 * - `aborted`: the signal fired first; `unsettled` documents were not acked and will
 *   be redelivered;
 * - `stopped`: the failure policy said stop; the workers must fail with `error`.
 */
export type SendResult =
  | { readonly kind: "settled" }
  | { readonly kind: "aborted"; readonly unsettled: number }
  | { readonly kind: "stopped"; readonly error: TransferError; readonly unsettled: number };

export type BulkSend = (documents: readonly PendingDocument[], signal: AbortSignal) => Promise<SendResult>;

/** Why the settling loop returned early. */
type Interrupt = { readonly kind: "aborted" } | { readonly kind: "stopped"; readonly error: TransferError };

const ABORTED: Interrupt = { kind: "aborted" };

/** State of one `send` call. */
interface Round {
  readonly signal: AbortSignal;
  unsettled: number;
}

/** A call, not a property read: TypeScript would keep `signal.aborted` narrowed across awaits. */
function isAborted(signal: AbortSignal): boolean {
  return signal.aborted;
}

function retryReasonOf(status: number | undefined): RetryReason {
  if (status === 429) return "throttled";
  if (status !== undefined && status >= 500) return "server_error";
  return "unavailable";
}

/**
 * Sends a batch until every document is settled. Only documents that failed
 * transiently (429, 5xx items; whole-request failures) are sent again, after an
 * exponential backoff with full jitter and no limit in time: while this runs the
 * worker slot stays busy, which is what pauses intake upstream. A request refused
 * for its content (400, 413) is split in two until the refused document is alone,
 * so one bad or oversized document never takes the rest of its batch down with it.
 * Each document's ack is called once, when it is settled; never before.
 */
export function createBulkSender(deps: BulkSenderDeps): BulkSend {
  validateRetryOptions(deps.retry);
  const observer = deps.observer ?? noopObserver;
  const logger = deps.logger ?? noopLogger;
  const random = deps.random ?? Math.random;
  const sleep = deps.sleep ?? abortableSleep;
  const now = deps.now ?? (() => performance.now());

  const settleAsIndexed = (documents: readonly PendingDocument[], round: Round): void => {
    if (documents.length === 0) return;
    const byIndex = new Map<string, number>();
    for (const { action } of documents) byIndex.set(action.index, (byIndex.get(action.index) ?? 0) + 1);
    for (const document of documents) {
      round.unsettled--;
      document.ack();
    }
    observer.documentsIndexed(documents.length, byIndex);
  };

  const reject = async (
    document: PendingDocument,
    failure: { status: number | undefined; errorType: string; reason: string },
    round: Round,
  ): Promise<Interrupt | undefined> => {
    const verdict = await deps.failurePolicy.handle(
      { record: document.origin, action: document.action, ...failure },
      round.signal,
    );
    switch (verdict.kind) {
      case "ack":
        round.unsettled--;
        document.ack();
        return undefined;
      case "stop":
        return { kind: "stopped", error: verdict.error };
      case "leave":
        return round.signal.aborted ? ABORTED : undefined;
    }
  };

  /** Sends `initial` (and then its failed part) until settled or interrupted. */
  const settle = async (initial: readonly PendingDocument[], round: Round): Promise<Interrupt | undefined> => {
    let pending = initial;
    let attempt = 0;
    while (pending.length > 0) {
      if (round.signal.aborted) return ABORTED;
      const body = buildBulkBody(pending);
      const bytes = body.length;
      const started = now();
      let response: BulkResponseBody;
      try {
        response = await deps.bulk(body, round.signal);
      } catch (error) {
        observer.bulkCompleted({ outcome: "failed", durationMs: now() - started, documents: pending.length, bytes });
        if (isAborted(round.signal)) return ABORTED;
        const status = httpStatus(error);
        if (isRetriable(error)) {
          observer.documentsRetried(pending.length, retryReasonOf(status));
          const delayMs = backoffDelay(attempt, deps.retry, random);
          logger.warn(
            { err: describeError(error), status, documents: pending.length, bytes, attempt: attempt + 1, delayMs },
            "bulk request failed; retrying the whole batch",
          );
          attempt++;
          await sleep(delayMs, round.signal);
          continue;
        }
        if (pending.length > 1) {
          const half = Math.ceil(pending.length / 2);
          logger.warn(
            { err: describeError(error), status, documents: pending.length, bytes },
            "bulk request refused; splitting the batch to isolate the refused documents",
          );
          const first = await settle(pending.slice(0, half), round);
          if (first !== undefined) return first;
          return settle(pending.slice(half), round);
        }
        const [only] = pending;
        if (only === undefined) return undefined;
        return reject(
          only,
          { status, errorType: status === 413 ? "request_too_large" : `http_${status ?? "error"}`, reason: describeError(error) },
          round,
        );
      }

      const outcomes = classifyResponse(
        pending.map((d) => d.action),
        response,
      );
      const indexed: PendingDocument[] = [];
      const retry: PendingDocument[] = [];
      const rejected: [PendingDocument, Extract<ItemOutcome, { kind: "rejected" }>][] = [];
      const retryReasons = new Map<RetryReason, number>();
      let sample: Extract<ItemOutcome, { kind: "retry" }> | undefined;
      pending.forEach((document, i) => {
        const outcome = outcomes[i];
        if (outcome === undefined || outcome.kind === "indexed") {
          indexed.push(document);
        } else if (outcome.kind === "retry") {
          retry.push(document);
          retryReasons.set(outcome.reason, (retryReasons.get(outcome.reason) ?? 0) + 1);
          sample ??= outcome;
        } else {
          rejected.push([document, outcome]);
        }
      });
      const outcome: BulkOutcome = retry.length > 0 ? "retry" : rejected.length > 0 ? "partial" : "success";
      observer.bulkCompleted({ outcome, durationMs: now() - started, documents: pending.length, bytes });

      settleAsIndexed(indexed, round);
      for (const [document, item] of rejected) {
        const interrupt = await reject(
          document,
          { status: item.status, errorType: item.errorType, reason: item.detail },
          round,
        );
        if (interrupt !== undefined) return interrupt;
      }
      if (retry.length === 0) {
        if (attempt > 0) logger.info({ documents: initial.length, retries: attempt }, "bulk batch settled after retries");
        return undefined;
      }
      for (const [reason, count] of retryReasons) observer.documentsRetried(count, reason);
      const delayMs = backoffDelay(attempt, deps.retry, random);
      logger.warn(
        {
          retrying: retry.length,
          documents: pending.length,
          status: sample?.status,
          errorType: sample?.errorType,
          reason: sample?.detail,
          attempt: attempt + 1,
          delayMs,
        },
        "bulk items failed transiently; retrying them",
      );
      attempt++;
      await sleep(delayMs, round.signal);
      pending = retry;
    }
    return undefined;
  };

  return async (documents, signal) => {
    const round: Round = { signal, unsettled: documents.length };
    const sendable: PendingDocument[] = [];
    let interrupt: Interrupt | undefined;
    for (const document of documents) {
      const problem = invalidAction(document.action);
      if (problem === undefined) {
        sendable.push(document);
      } else {
        interrupt = await reject(document, { status: undefined, errorType: "invalid_action", reason: problem }, round);
        if (interrupt !== undefined) break;
      }
    }
    interrupt ??= await settle(sendable, round);
    if (interrupt?.kind === "stopped") return { kind: "stopped", error: interrupt.error, unsettled: round.unsettled };
    if (round.unsettled > 0) return { kind: "aborted", unsettled: round.unsettled };
    return { kind: "settled" };
  };
}
