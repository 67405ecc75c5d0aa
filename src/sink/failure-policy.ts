import { RecordRejectedError } from "../errors.ts";
import type { BulkAction } from "../pipeline/document.ts";
import type { KafkaRecord } from "../pipeline/record.ts";
import { LogRateLimiter, suppressedSuffix } from "../telemetry/rate-limited-log.ts";
import { DEFAULT_EXCERPT_BYTES, recordExcerpt } from "../telemetry/record-excerpt.ts";
import { noopLogger, noopObserver, type RejectionEvent, type SinkLogger, type SinkObserver } from "./observer.ts";

/**
 * What to do with a record Elasticsearch will never accept as it is:
 * - `skip`: log it (with an excerpt) and count it, then ack it so the partition moves on;
 * - `stop`: leave it unacked and fail the workers, so nothing after it is committed.
 * A dead-letter destination will be a third choice: write the record there, then ack.
 */
export type FailurePolicyName = "skip" | "stop";

export const FAILURE_POLICY_NAMES: readonly FailurePolicyName[] = ["skip", "stop"];

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
 *   shutdown): leave it unacked, it will be redelivered.
 */
export type FailureVerdict =
  | { readonly kind: "ack" }
  | { readonly kind: "stop"; readonly error: RecordRejectedError }
  | { readonly kind: "leave" };

/** The one place deciding the fate of permanently rejected records. */
export interface FailurePolicy {
  readonly name: string;
  /** May be slow (a dead-letter write); must not throw; honours `signal` for shutdown. */
  handle(rejection: Rejection, signal: AbortSignal): Promise<FailureVerdict>;
}

export interface FailurePolicyDeps {
  readonly observer?: SinkObserver;
  readonly logger?: SinkLogger;
  /** How many bytes of the record value to show in logs and events (default 256). */
  readonly excerptBytes?: number;
  /** At most one log line per error type and index in this interval (default 10 s). */
  readonly logIntervalMs?: number;
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
    case "skip":
      return {
        name,
        handle(rejection) {
          const event = report(rejection);
          logRejection(event, { status: rejection.status, policy: name }, "record rejected by Elasticsearch: skipped", "warn");
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
