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

/**
 * Partitions held because Elasticsearch refuses their records for an operator reason
 * (partition-holds.ts): the sender reports refusals and writes, and gives the records
 * of held partitions back instead of retrying them in its slot.
 */
export interface HoldGate {
  /** True while any partition is held, probed or expired (a cheap check on the hot path). */
  readonly active: boolean;
  isHeld(topic: string, partition: number): boolean;
  isExpired(topic: string, partition: number): boolean;
  heldFor(topic: string, partition: number): number | undefined;
  refused(record: PendingDocument["origin"], reason: string): void;
  written(topic: string, partition: number): void;
}

export interface BulkSenderDeps {
  readonly bulk: BulkFunction;
  /** Absent: documents refused for an operator reason are retried in their slot until taken. */
  readonly holds?: HoldGate;
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
  /** Kept by Elasticsearch in a data stream's failure store: settled, not indexed. */
  readonly failureStored: PendingDocument[];
  readonly retry: PendingDocument[];
  readonly rejected: [PendingDocument, RejectedOutcome][];
  /** Refused for an operator reason and given back: their partitions are held. */
  readonly held: [PendingDocument, RetryOutcome][];
  /** Retried documents per reason. */
  readonly retryReasons: Map<RetryReason, number>;
  /** Documents held for an operator, per error type. */
  readonly blocked: Map<string, number>;
  /** The first transient failure, and the first operator error, for the log line. */
  sample: RetryOutcome | undefined;
  blockedSample: RetryOutcome | undefined;
}

/** What becomes of a document refused for an operator reason. */
type OperatorVerdict = "retry" | "hold" | "expire";

/** Seconds, one decimal, for messages. */
function seconds(ms: number): string {
  return (ms / 1000).toFixed(1);
}

function sortOutcomes(
  documents: readonly PendingDocument[],
  outcomes: readonly ItemOutcome[],
  onOperatorError: (document: PendingDocument) => OperatorVerdict,
  heldFor: (document: PendingDocument) => number,
): SortedOutcomes {
  const sorted: SortedOutcomes = {
    indexed: [], failureStored: [], retry: [], rejected: [], held: [], retryReasons: new Map(), blocked: new Map(), sample: undefined, blockedSample: undefined,
  };
  documents.forEach((document, i) => {
    const outcome = outcomes[i];
    const verdict = outcome?.kind === "retry" && outcome.reason === "blocked" ? onOperatorError(document) : "retry";
    if (outcome === undefined || outcome.kind === "indexed") {
      sorted.indexed.push(document);
    } else if (outcome.kind === "failure_stored") {
      sorted.failureStored.push(document);
    } else if (outcome.kind === "retry" && verdict === "hold") {
      sorted.held.push([document, outcome]);
    } else if (outcome.kind === "retry" && verdict === "expire") {
      const detail = `${outcome.detail} (partition held ${seconds(heldFor(document))} s, past HOLD_MAX_MS)`;
      sorted.rejected.push([document, { kind: "rejected", status: outcome.status, errorType: `held_${outcome.errorType}`, detail }]);
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
 * With `holds`, a document refused for an operator reason (closed index, write block...)
 * or whose dead-letter write fails is not retried here: its partition is held and the
 * document given back (budget freed, not acked), so the slot is free at once and the
 * other partitions keep flowing. Each document's ack is called once, when it is
 * settled; never before.
 */
export function createBulkSender(deps: BulkSenderDeps): BulkSend {
  validateRetryOptions(deps.retry);
  const sender = new BulkSender(deps);
  return (documents, signal) => sender.send(documents, signal);
}

/** One request's figures, for the log lines of its retries. */
interface RequestFacts {
  readonly documents: number;
  readonly bytes: number;
  readonly attempt: number;
}

class BulkSender {
  readonly #deps: BulkSenderDeps;
  readonly #observer: SinkObserver;
  readonly #logger: SinkLogger;
  readonly #random: () => number;
  readonly #sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly #now: () => number;

  constructor(deps: BulkSenderDeps) {
    this.#deps = deps;
    this.#observer = deps.observer ?? noopObserver;
    this.#logger = deps.logger ?? noopLogger;
    this.#random = deps.random ?? Math.random;
    this.#sleep = deps.sleep ?? abortableSleep;
    this.#now = deps.now ?? (() => performance.now());
  }

  async send(documents: readonly PendingDocument[], signal: AbortSignal): Promise<SendResult> {
    const round: Round = { signal, unsettled: documents.length };
    const sendable: PendingDocument[] = [];
    let interrupt: Interrupt | undefined;
    for (const document of documents) {
      const problem = invalidAction(document.action);
      if (problem === undefined) {
        sendable.push(document);
      } else {
        interrupt = await this.#reject(document, { status: undefined, errorType: "invalid_action", reason: problem }, round);
        if (interrupt !== undefined) break;
      }
    }
    interrupt ??= await this.#settle(sendable, round);
    if (interrupt?.kind === "stopped") return { kind: "stopped", error: interrupt.error, unsettled: round.unsettled };
    if (round.unsettled > 0) return { kind: "aborted", unsettled: round.unsettled };
    return { kind: "settled" };
  }

  /** Sends `initial` (and then its failed part) until settled or interrupted. */
  async #settle(initial: readonly PendingDocument[], round: Round): Promise<Interrupt | undefined> {
    let pending = initial;
    let attempt = 0;
    // A whole request refused transiently is sent again as it was: the same body, not a
    // second copy of its documents' bytes. Dropped before the wait of a smaller retry.
    let body: Buffer | undefined;
    while (pending.length > 0) {
      if (round.signal.aborted) return ABORTED;
      const sendable = this.#giveBackHeld(pending, round);
      if (sendable.length !== pending.length) body = undefined;
      pending = sendable;
      if (pending.length === 0) break;
      body ??= buildBulkBody(pending);
      const facts: RequestFacts = { documents: pending.length, bytes: body.length, attempt };
      const started = this.#now();
      let response: BulkResponseBody;
      try {
        response = await this.#deps.bulk(body, round.signal);
      } catch (error) {
        this.#observer.bulkCompleted({ outcome: "failed", durationMs: this.#now() - started, documents: pending.length, bytes: facts.bytes });
        if (isAborted(round.signal)) return ABORTED;
        if (!isRetriable(error)) return this.#isolateRefused(pending, error, facts, round);
        await this.#backOffWholeRequest(error, facts, round.signal);
        attempt++;
        continue;
      }
      const next = await this.#settleResponse(pending, response, { ...facts, durationMs: this.#now() - started }, round);
      if (next === undefined || "kind" in next) {
        if (next === undefined && attempt > 0) this.#logger.info({ documents: initial.length, retries: attempt }, "bulk batch settled after retries");
        return next;
      }
      attempt++;
      body = undefined;
      pending = next.retry;
      await this.#sleep(next.delayMs, round.signal);
    }
    return undefined;
  }

  /**
   * Settles what a response acked or rejected for good; returns what to send again
   * (after `delayMs`), an interrupt, or undefined when everything is settled.
   */
  async #settleResponse(
    pending: readonly PendingDocument[],
    response: BulkResponseBody,
    facts: RequestFacts & { readonly durationMs: number },
    round: Round,
  ): Promise<Interrupt | { readonly retry: readonly PendingDocument[]; readonly delayMs: number } | undefined> {
    const sorted = sortOutcomes(
      pending,
      classifyResponse(pending.map((d) => d.action), response),
      (document) => this.#operatorVerdict(document),
      (document) => this.#deps.holds?.heldFor(document.origin.topic, document.origin.partition) ?? 0,
    );
    const { indexed, rejected } = sorted;
    const outcome: BulkOutcome = sorted.retry.length > 0 ? "retry" : rejected.length > 0 || sorted.held.length > 0 ? "partial" : "success";
    this.#observer.bulkCompleted({ outcome, durationMs: facts.durationMs, documents: pending.length, bytes: facts.bytes });

    this.#holdRefused(sorted.held, round);
    this.#settleAsWritten(indexed, "indexed", round);
    this.#settleAsWritten(sorted.failureStored, "failure_stored", round);
    const interrupt = await this.#rejectAll(
      rejected.map(([document, item]) => [document, { status: item.status, errorType: item.errorType, reason: item.detail }]),
      round,
    );
    if (interrupt !== undefined) return interrupt;
    // Retried documents of a partition held meanwhile (here or by another request) go back too.
    const retry = this.#giveBackHeld(sorted.retry, round);
    if (retry.length === 0) return undefined;
    const delayMs = backoffDelay(facts.attempt, this.#deps.retry, this.#random);
    this.#reportItemRetries(sorted, { documents: pending.length, attempt: facts.attempt + 1, delayMs });
    return { retry, delayMs };
  }

  /** A request refused for its content: halve it until the refused document is alone, then reject that one. */
  async #isolateRefused(pending: readonly PendingDocument[], error: unknown, facts: RequestFacts, round: Round): Promise<Interrupt | undefined> {
    const status = httpStatus(error);
    if (pending.length > 1) {
      const half = Math.ceil(pending.length / 2);
      this.#logger.warn(
        { err: describeError(error), status, documents: pending.length, bytes: facts.bytes },
        "bulk request refused; splitting the batch to isolate the refused documents",
      );
      const first = await this.#settle(pending.slice(0, half), round);
      if (first !== undefined) return first;
      return this.#settle(pending.slice(half), round);
    }
    const [only] = pending;
    if (only === undefined) return undefined;
    return this.#reject(
      only,
      { status, errorType: status === 413 ? "request_too_large" : `http_${status ?? "error"}`, reason: describeError(error) },
      round,
    );
  }

  /** Whether a document refused for an operator reason holds its partition, takes the failure policy, or is retried here. */
  #operatorVerdict(document: PendingDocument): OperatorVerdict {
    const holds = this.#deps.holds;
    if (holds === undefined || document.giveBack === undefined) return "retry";
    return holds.isExpired(document.origin.topic, document.origin.partition) ? "expire" : "hold";
  }

  /** Holds the partitions of documents refused for an operator reason and gives the documents back: the slot is free at once. */
  #holdRefused(held: readonly (readonly [PendingDocument, RetryOutcome])[], round: Round): void {
    const holds = this.#deps.holds;
    if (holds === undefined || held.length === 0) return;
    for (const [document, outcome] of held) {
      holds.refused(document.origin, outcome.errorType);
      this.#giveBack(document, round);
    }
    const byType = new Map<string, number>();
    for (const [, outcome] of held) byType.set(outcome.errorType, (byType.get(outcome.errorType) ?? 0) + 1);
    for (const [errorType, count] of byType) this.#observer.operatorActionNeeded(count, errorType);
    // Read again from Kafka once their partition is released: retried, the slow way.
    this.#observer.documentsRetried(held.length, "blocked");
  }

  /** Gives back the documents of held partitions; returns the others. */
  #giveBackHeld(documents: readonly PendingDocument[], round: Round): readonly PendingDocument[] {
    const holds = this.#deps.holds;
    if (holds?.active !== true) return documents;
    const kept: PendingDocument[] = [];
    for (const document of documents) {
      if (document.giveBack !== undefined && holds.isHeld(document.origin.topic, document.origin.partition)) this.#giveBack(document, round);
      else kept.push(document);
    }
    return kept;
  }

  #giveBack(document: PendingDocument, round: Round): void {
    round.unsettled--;
    document.giveBack?.();
  }

  /** Documents Elasticsearch took: indexed, or kept in a data stream's failure store. */
  #settleAsWritten(documents: readonly PendingDocument[], outcome: "indexed" | "failure_stored", round: Round): void {
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
    this.#reportWritten(documents);
    if (outcome === "indexed") this.#observer.documentsIndexed(documents.length, byIndex);
    else this.#observer.documentsFailureStored(documents.length, byIndex);
    for (const [topic, count] of byTopic) this.#observer.recordsSettled(topic, outcome, count);
  }

  /** Written records release the holds being probed (once per partition and response). */
  #reportWritten(documents: readonly PendingDocument[]): void {
    const holds = this.#deps.holds;
    if (holds?.active !== true) return;
    const seen = new Set<string>();
    for (const { origin } of documents) {
      const key = `${origin.topic}\u0000${String(origin.partition)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      holds.written(origin.topic, origin.partition);
    }
  }

  #applyVerdict(document: PendingDocument, verdict: FailureVerdict, round: Round): Interrupt | undefined {
    switch (verdict.kind) {
      case "ack":
        round.unsettled--;
        document.ack();
        this.#reportWritten([document]);
        return undefined;
      case "stop":
        return { kind: "stopped", error: verdict.error };
      case "leave":
        return round.signal.aborted ? ABORTED : undefined;
      case "hold":
        // The dead-letter topic cannot be written: the record's partition is held like an index refusing it.
        this.#deps.holds?.refused(document.origin, verdict.reason);
        this.#giveBack(document, round);
        return undefined;
    }
  }

  /**
   * Hands every rejected document to the failure policy at once (a dead-letter writer
   * sends what arrives together in one produce request), then applies the verdicts in
   * order: the first `stop` wins.
   */
  async #rejectAll(rejections: readonly Rejected[], round: Round): Promise<Interrupt | undefined> {
    const verdicts = await Promise.all(
      rejections.map(([document, failure]) =>
        this.#deps.failurePolicy.handle({ record: document.origin, action: document.action, ...failure }, round.signal, {
          mayHold: this.#deps.holds !== undefined && document.giveBack !== undefined,
        }),
      ),
    );
    let interrupt: Interrupt | undefined;
    rejections.forEach(([document], i) => {
      const verdict = verdicts[i];
      if (verdict === undefined || interrupt?.kind === "stopped") return;
      interrupt = this.#applyVerdict(document, verdict, round) ?? interrupt;
    });
    return interrupt;
  }

  #reject(document: PendingDocument, failure: Failure, round: Round): Promise<Interrupt | undefined> {
    return this.#rejectAll([[document, failure]], round);
  }

  /** A whole request failed transiently: count, log, and wait out the backoff before sending it again. */
  async #backOffWholeRequest(error: unknown, request: RequestFacts, signal: AbortSignal): Promise<void> {
    const status = httpStatus(error);
    const reason = retryReasonOf(status);
    this.#observer.documentsRetried(request.documents, reason);
    if (reason === "blocked") this.#observer.operatorActionNeeded(request.documents, `http_${String(status)}`);
    const delayMs = backoffDelay(request.attempt, this.#deps.retry, this.#random);
    this.#logger.warn(
      { err: describeError(error), status, ...request, attempt: request.attempt + 1, delayMs },
      status === 401 || status === 403
        ? `${NOT_AUTHORIZED}; retrying the whole batch`
        : reason === "blocked"
        ? "bulk request refused for a reason an operator must fix (privileges?); retrying the whole batch"
        : "bulk request failed; retrying the whole batch",
    );
    await this.#sleep(delayMs, signal);
  }

  /** Counts and logs the documents of a response sent again; operator errors get their own line and metric. */
  #reportItemRetries(sorted: SortedOutcomes, fields: { documents: number; attempt: number; delayMs: number }): void {
    for (const [reason, count] of sorted.retryReasons) this.#observer.documentsRetried(count, reason);
    for (const [errorType, count] of sorted.blocked) this.#observer.operatorActionNeeded(count, errorType);
    const blocked = sorted.blockedSample;
    if (blocked !== undefined) {
      this.#logger.error(
        { held: sum(sorted.blocked), ...fields, status: blocked.status, errorType: blocked.errorType, reason: blocked.detail },
        isPrivilegeError(blocked)
          ? `${NOT_AUTHORIZED}; holding them and retrying`
          : "Elasticsearch refuses documents for a reason an operator must fix (missing or closed index, write block, privileges, data-stream op type); holding them and retrying",
      );
    }
    const sample = sorted.sample;
    if (sample !== undefined) {
      this.#logger.warn(
        { retrying: sorted.retry.length, ...fields, status: sample.status, errorType: sample.errorType, reason: sample.detail },
        "bulk items failed transiently; retrying them",
      );
    }
  }
}
