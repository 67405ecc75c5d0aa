import { ConfigError, describeError, RecordRejectedError } from "../errors.ts";
import type { BulkAction } from "../pipeline/document.ts";
import type { KafkaRecord } from "../pipeline/record.ts";
import type { FailurePolicyName } from "../shared/failure-policy-names.ts";
import { LogRateLimiter, suppressedSuffix } from "../shared/rate-limited-log.ts";
import { DEFAULT_EXCERPT_BYTES, recordExcerpt } from "../shared/record-excerpt.ts";
import { deadLetterRecord, type DeadLetterWriter } from "./dead-letter.ts";
import { noopLogger, noopObserver, type RejectionEvent, type SinkLogger, type SinkObserver } from "./observer.ts";
import { backoffDelay, sleep as abortableSleep, type RetryPolicyOptions } from "./retry-policy.ts";

/**
 * What to do with a record Elasticsearch will never accept as it is (the names:
 * shared/failure-policy-names.ts, below both config and sink):
 * - `skip`: log it (with an excerpt) and count it, then ack it so the partition moves on;
 * - `stop`: leave it unacked and fail the workers, so nothing after it is committed;
 * - `dlq`: write it to the dead-letter topic, and ack it only once Kafka acknowledged
 *   that write. A failed write is retried without limit (the record stays unacked, so
 *   its partition's committed offset holds); it is never skipped.
 */
export type { FailurePolicyName };

/** A record refused for good, by an item error, a request-level 4xx, or a local check. */
export interface Rejection {
  readonly record: KafkaRecord;
  /** Undefined when the record could not be turned into a bulk action at all. */
  readonly action: BulkAction | undefined;
  /** HTTP status of the item (or of the request); undefined for local failures. */
  readonly status: number | undefined;
  readonly errorType: string;
  readonly reason: string;
}

/**
 * The policy's decision about one rejection:
 * - `ack`: the record is settled (skipped, or safely dead-lettered): ack it;
 * - `stop`: fatal, the workers must stop; the record stays unacked;
 * - `leave`: not settled but not fatal either (a dead-letter write interrupted by
 *   shutdown): leave it unacked, it will be redelivered;
 * - `hold`: not settled, its partition must be held (the dead-letter topic cannot be
 *   written): only when the caller said it can hold (`mayHold`).
 */
export type FailureVerdict =
  | { readonly kind: "ack" }
  | { readonly kind: "stop"; readonly error: RecordRejectedError }
  | { readonly kind: "leave" }
  | { readonly kind: "hold"; readonly reason: string };

export interface HandleOptions {
  /**
   * The caller can hold the record's partition (held partitions, `start`): a failed
   * dead-letter write returns `hold` at once instead of retrying in place.
   */
  readonly mayHold?: boolean;
}

/** The one place deciding the fate of permanently rejected records. */
export interface FailurePolicy {
  readonly name: string;
  /** May be slow (a dead-letter write); must not throw; honours `signal` for shutdown. */
  handle(rejection: Rejection, signal: AbortSignal, options?: HandleOptions): Promise<FailureVerdict>;
}

export interface FailurePolicyDeps {
  readonly observer?: SinkObserver;
  readonly logger?: SinkLogger;
  /** How many bytes of the record value to show in logs and events (default 256). */
  readonly excerptBytes?: number;
  /** At most one log line per error type and index in this interval (default 10 s). */
  readonly logIntervalMs?: number;
  /** Required by `dlq`: where rejected records go, and how failed writes are retried. */
  readonly deadLetter?: DeadLetterDeps;
}

export interface DeadLetterDeps {
  readonly writer: DeadLetterWriter;
  readonly retry: RetryPolicyOptions;
  /** Injectable for tests: clock (ms since the epoch), jitter source, backoff wait. */
  readonly now?: () => number;
  readonly random?: () => number;
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** The event the observer and the logs receive for a rejection. */
export function rejectionEvent(rejection: Rejection, excerptBytes: number): RejectionEvent {
  const { record } = rejection;
  return {
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    index: rejection.action?.index,
    errorType: rejection.errorType,
    reason: rejection.reason,
    // The Kafka value, not the decoded source: it is what an operator can find in the topic.
    excerpt: recordExcerpt(record.value, excerptBytes),
  };
}

const ACK: FailureVerdict = { kind: "ack" };
const LEAVE: FailureVerdict = { kind: "leave" };
/** Why a partition is held while its rejected records cannot be dead-lettered. */
export const DEAD_LETTER_UNWRITABLE = "dead_letter_unwritable";
const HOLD_FOR_DEAD_LETTER: FailureVerdict = { kind: "hold", reason: DEAD_LETTER_UNWRITABLE };

export function createFailurePolicy(name: FailurePolicyName, deps: FailurePolicyDeps = {}): FailurePolicy {
  const observer = deps.observer ?? noopObserver;
  const logger = deps.logger ?? noopLogger;
  const excerptBytes = deps.excerptBytes ?? DEFAULT_EXCERPT_BYTES;

  // A mapping conflict can hit every record of a topic: one line per error type and
  // index every 10 s, with the count of the lines held back, keeps it visible
  // without flooding the logs. The metrics still count every record.
  const limiter = new LogRateLimiter({ intervalMs: deps.logIntervalMs ?? 10_000 });
  const logRejection = (event: RejectionEvent, fields: object, message: string, level: "warn" | "error"): void => {
    const decision = limiter.check(`${event.errorType}\u0000${event.index ?? ""}`);
    if (!decision.allowed) return;
    const suffix = decision.suppressed > 0 ? ` ${suppressedSuffix(decision.suppressed, decision.sinceMs)}` : "";
    logger[level]({ ...event, ...fields }, `${message}${suffix}`);
  };

  const report = (rejection: Rejection): RejectionEvent => {
    const event = rejectionEvent(rejection, excerptBytes);
    observer.documentRejected(event);
    return event;
  };

  switch (name) {
    case "dlq": {
      if (deps.deadLetter === undefined) throw new ConfigError('failure policy "dlq" needs a dead-letter topic (DLQ_TOPIC)');
      const deadLetter = deps.deadLetter;
      return {
        name,
        handle: (rejection, signal, options) =>
          deadLetterWithRetry(rejection, signal, { deadLetter, observer, logger, report, logRejection, mayHold: options?.mayHold === true }),
      };
    }
    case "skip":
      return {
        name,
        handle(rejection) {
          const event = report(rejection);
          logRejection(event, { status: rejection.status, policy: name }, "record rejected by Elasticsearch: skipped", "warn");
          observer.recordsSettled(event.topic, "dropped", 1);
          return Promise.resolve(ACK);
        },
      };
    case "stop":
      return {
        name,
        handle(rejection) {
          const event = report(rejection);
          logger.error({ ...event, status: rejection.status, policy: name }, "record rejected by Elasticsearch: stopping");
          const where = `${event.topic}[${event.partition}]@${event.offset}`;
          const error = new RecordRejectedError(
            `record ${where} rejected (${event.errorType}: ${event.reason}); failure policy is "stop"`,
            rejection,
          );
          return Promise.resolve({ kind: "stop", error });
        },
      };
  }
}

/** A call, not a property read: TypeScript would keep `signal.aborted` narrowed across awaits. */
function isAborted(signal: AbortSignal): boolean {
  return signal.aborted;
}

interface DeadLetterContext {
  readonly deadLetter: DeadLetterDeps;
  readonly observer: SinkObserver;
  readonly logger: SinkLogger;
  readonly report: (rejection: Rejection) => RejectionEvent;
  readonly logRejection: (event: RejectionEvent, fields: object, message: string, level: "warn" | "error") => void;
  /** Hold the partition instead of retrying in place (see HandleOptions). */
  readonly mayHold: boolean;
}

/**
 * Writes the dead-letter record until Kafka acknowledges it, backing off between tries
 * without limit: an unavailable or unauthorized dead-letter topic holds the record (and
 * so its partition's committed offset) and raises the failure metric, never drops it.
 * Only shutdown interrupts it (`leave`: the record is redelivered and tried again).
 */
async function deadLetterWithRetry(rejection: Rejection, signal: AbortSignal, context: DeadLetterContext): Promise<FailureVerdict> {
  const { deadLetter, observer, logger } = context;
  const now = deadLetter.now ?? Date.now;
  const sleep = deadLetter.sleep ?? abortableSleep;
  const event = context.report(rejection);
  const record = deadLetterRecord(rejection, now());
  for (let attempt = 0; ; attempt++) {
    if (signal.aborted) return LEAVE;
    try {
      await deadLetter.writer.write(record);
    } catch (error) {
      // Abandoned by shutdown (the producer fails writes in flight): not a failure.
      if (isAborted(signal)) return LEAVE;
      observer.deadLetterFailed(rejection.record);
      if (context.mayHold) {
        context.logRejection(event, { err: describeError(error) }, "dead-letter write failed; holding the record's partition", "error");
        return HOLD_FOR_DEAD_LETTER;
      }
      const delayMs = backoffDelay(attempt, deadLetter.retry, deadLetter.random);
      context.logRejection(
        event,
        { err: describeError(error), attempt: attempt + 1, delayMs },
        "dead-letter write failed; holding the record and retrying",
        "error",
      );
      await sleep(delayMs, signal);
      continue;
    }
    observer.deadLettered(event);
    observer.recordsSettled(event.topic, "dead_lettered", 1);
    context.logRejection(event, { status: rejection.status, policy: "dlq" }, "record rejected by Elasticsearch: dead-lettered", "warn");
    if (attempt > 0) logger.info({ topic: event.topic, partition: event.partition, offset: event.offset, attempts: attempt + 1 }, "dead-letter write succeeded after retries");
    return ACK;
  }
}
