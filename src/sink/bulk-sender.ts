import { describeError, isRetriable, type TransferError } from "../errors.ts";
import type { PendingDocument } from "../pipeline/document.ts";
import { httpStatus, type BulkFunction } from "./bulk-client.ts";
import { buildBulkBody, invalidAction } from "./bulk-request.ts";
import { classifyResponse, type BulkResponseBody, type ItemOutcome } from "./bulk-response.ts";
import type { FailurePolicy, FailureVerdict } from "./failure-policy.ts";
import { noopLogger, noopObserver, type BulkOutcome, type RetryReason, type SinkLogger, type SinkObserver } from "./observer.ts";
import { backoffDelay, sleep as abortableSleep, validateRetryOptions, type RetryPolicyOptions } from "./retry-policy.ts";

/** What a 401/403 on a write means, and what to grant (README, Security). */
const NOT_AUTHORIZED =
  "Elasticsearch: not authorized to write (missing privilege): the worker's role needs index (or create_doc), create_index and auto_configure on the index";

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

/** Why a document was refused for good. */
interface Failure {
  readonly status: number | undefined;
  readonly errorType: string;
  readonly reason: string;
}

type Rejected = readonly [PendingDocument, Failure];

/** State of one `send` call. */
interface Round {
  readonly signal: AbortSignal;
  unsettled: number;
}

/** A call, not a property read: TypeScript would keep `signal.aborted` narrowed across awaits. */
function isAborted(signal: AbortSignal): boolean {
  return signal.aborted;
}

/** A 401/403 about privileges; a 403 write block (`cluster_block_exception`) is not one. */
function isPrivilegeError(outcome: RetryOutcome): boolean {
  return outcome.status === 401 || (outcome.status === 403 && outcome.errorType !== "cluster_block_exception");
}

function sum(counts: ReadonlyMap<string, number>): number {
  let total = 0;
  for (const count of counts.values()) total += count;
  return total;
}

function retryReasonOf(status: number | undefined): RetryReason {
  // No privilege for the bulk action at all, or a missing index behind a proxy: the whole request is held.
  if (status === 401 || status === 403 || status === 404) return "blocked";
  if (status === 429) return "throttled";
  if (status !== undefined && status >= 500) return "server_error";
  return "unavailable";
}

type RetryOutcome = Extract<ItemOutcome, { kind: "retry" }>;
type RejectedOutcome = Extract<ItemOutcome, { kind: "rejected" }>;

/** A bulk response's documents sorted by what to do next with them. */
interface SortedOutcomes {
  readonly indexed: PendingDocument[];
  readonly retry: PendingDocument[];
  readonly rejected: [PendingDocument, RejectedOutcome][];
  /** Retried documents per reason. */
  readonly retryReasons: Map<RetryReason, number>;
  /** Documents held for an operator, per error type. */
  readonly blocked: Map<string, number>;
  /** The first transient failure, and the first operator error, for the log line. */
  sample: RetryOutcome | undefined;
  blockedSample: RetryOutcome | undefined;
}

function sortOutcomes(documents: readonly PendingDocument[], outcomes: readonly ItemOutcome[]): SortedOutcomes {
  const sorted: SortedOutcomes = {
    indexed: [], retry: [], rejected: [], retryReasons: new Map(), blocked: new Map(), sample: undefined, blockedSample: undefined,
  };
  documents.forEach((document, i) => {
    const outcome = outcomes[i];
    if (outcome === undefined || outcome.kind === "indexed") {
      sorted.indexed.push(document);
    } else if (outcome.kind === "retry") {
      sorted.retry.push(document);
      sorted.retryReasons.set(outcome.reason, (sorted.retryReasons.get(outcome.reason) ?? 0) + 1);
      if (outcome.reason === "blocked") {
        sorted.blocked.set(outcome.errorType, (sorted.blocked.get(outcome.errorType) ?? 0) + 1);
        sorted.blockedSample ??= outcome;
      } else {
        sorted.sample ??= outcome;
      }
    } else {
      sorted.rejected.push([document, outcome]);
    }
  });
  return sorted;
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
    const byTopic = new Map<string, number>();
    for (const { action, origin } of documents) {
      byIndex.set(action.index, (byIndex.get(action.index) ?? 0) + 1);
      byTopic.set(origin.topic, (byTopic.get(origin.topic) ?? 0) + 1);
    }
    for (const document of documents) {
      round.unsettled--;
      document.ack();
    }
    observer.documentsIndexed(documents.length, byIndex);
    for (const [topic, count] of byTopic) observer.recordsSettled(topic, "indexed", count);
  };

  const applyVerdict = (document: PendingDocument, verdict: FailureVerdict, round: Round): Interrupt | undefined => {
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

  /**
   * Hands every rejected document to the failure policy at once (a dead-letter writer
   * sends what arrives together in one produce request), then applies the verdicts in
   * order: the first `stop` wins.
   */
  const rejectAll = async (rejections: readonly Rejected[], round: Round): Promise<Interrupt | undefined> => {
    const verdicts = await Promise.all(
      rejections.map(([document, failure]) =>
        deps.failurePolicy.handle({ record: document.origin, action: document.action, ...failure }, round.signal),
      ),
    );
    let interrupt: Interrupt | undefined;
    rejections.forEach(([document], i) => {
      const verdict = verdicts[i];
      if (verdict === undefined || interrupt?.kind === "stopped") return;
      interrupt = applyVerdict(document, verdict, round) ?? interrupt;
    });
    return interrupt;
  };

  const reject = (document: PendingDocument, failure: Failure, round: Round): Promise<Interrupt | undefined> =>
    rejectAll([[document, failure]], round);

  /** A whole request failed transiently: count, log, and wait out the backoff before sending it again. */
  const backOffWholeRequest = async (
    error: unknown,
    request: { documents: number; bytes: number; attempt: number },
    signal: AbortSignal,
  ): Promise<void> => {
    const status = httpStatus(error);
    const reason = retryReasonOf(status);
    observer.documentsRetried(request.documents, reason);
    if (reason === "blocked") observer.operatorActionNeeded(request.documents, `http_${String(status)}`);
    const delayMs = backoffDelay(request.attempt, deps.retry, random);
    logger.warn(
      { err: describeError(error), status, ...request, attempt: request.attempt + 1, delayMs },
      status === 401 || status === 403
        ? `${NOT_AUTHORIZED}; retrying the whole batch`
        : reason === "blocked"
        ? "bulk request refused for a reason an operator must fix (privileges?); retrying the whole batch"
        : "bulk request failed; retrying the whole batch",
    );
    await sleep(delayMs, signal);
  };

  /** Counts and logs the documents of a response sent again; operator errors get their own line and metric. */
  const reportItemRetries = (sorted: SortedOutcomes, fields: { documents: number; attempt: number; delayMs: number }): void => {
    for (const [reason, count] of sorted.retryReasons) observer.documentsRetried(count, reason);
    for (const [errorType, count] of sorted.blocked) observer.operatorActionNeeded(count, errorType);
    const blocked = sorted.blockedSample;
    if (blocked !== undefined) {
      logger.error(
        { held: sum(sorted.blocked), ...fields, status: blocked.status, errorType: blocked.errorType, reason: blocked.detail },
        isPrivilegeError(blocked)
          ? `${NOT_AUTHORIZED}; holding them and retrying`
          : "Elasticsearch refuses documents for a reason an operator must fix (missing or closed index, write block, privileges, data-stream op type); holding them and retrying",
      );
    }
    const sample = sorted.sample;
    if (sample !== undefined) {
      logger.warn(
        { retrying: sorted.retry.length, ...fields, status: sample.status, errorType: sample.errorType, reason: sample.detail },
        "bulk items failed transiently; retrying them",
      );
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
          await backOffWholeRequest(error, { documents: pending.length, bytes, attempt }, round.signal);
          attempt++;
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

      const sorted = sortOutcomes(pending, classifyResponse(pending.map((d) => d.action), response));
      const { indexed, retry, rejected } = sorted;
      const outcome: BulkOutcome = retry.length > 0 ? "retry" : rejected.length > 0 ? "partial" : "success";
      observer.bulkCompleted({ outcome, durationMs: now() - started, documents: pending.length, bytes });

      settleAsIndexed(indexed, round);
      const interrupt = await rejectAll(
        rejected.map(([document, item]) => [document, { status: item.status, errorType: item.errorType, reason: item.detail }]),
        round,
      );
      if (interrupt !== undefined) return interrupt;
      if (retry.length === 0) {
        if (attempt > 0) logger.info({ documents: initial.length, retries: attempt }, "bulk batch settled after retries");
        return undefined;
      }
      const delayMs = backoffDelay(attempt, deps.retry, random);
      reportItemRetries(sorted, { documents: pending.length, attempt: attempt + 1, delayMs });
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
