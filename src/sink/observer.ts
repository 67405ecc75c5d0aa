import type { KafkaRecord } from "../pipeline/record.ts";

/**
 * How one bulk request ended:
 * - `success`: every document in it is settled as indexed (or already there);
 * - `partial`: every document is settled, some were permanently rejected;
 * - `retry`: some documents failed transiently and will be sent again;
 * - `failed`: the whole request failed (connection, timeout, request-level status).
 */
export type BulkOutcome = "success" | "partial" | "retry" | "failed";

/**
 * Why documents are sent again, a small fixed set so it can be a metric label:
 * `throttled` (429), `server_error` (5xx), `unavailable` (no answer: connection
 * refused, timeout, unreadable response, trouble in front of ES), `blocked` (an
 * operator must act: missing or closed index, write block, privileges, data-stream
 * op type, missing ingest pipeline; see `isOperatorError`), `conflict` (an update met
 * another writer's change of the document past its retries on conflict).
 */
export type RetryReason = "throttled" | "server_error" | "unavailable" | "blocked" | "conflict";

/**
 * How a consumed record was settled, for the per-topic reconciliation
 * consumed == indexed + dead_lettered + skipped + failure_stored (+ dropped, which only
 * the `skip` failure policy produces: a rejected record acknowledged without a copy
 * anywhere). `failure_stored`: Elasticsearch kept the document in the data stream's
 * failure store (a pipeline or mapping failure), neither indexed nor dead-lettered.
 */
export type SettleOutcome = "indexed" | "dead_lettered" | "skipped" | "dropped" | "failure_stored";

/** A record set aside for good: what the logs and the dead-letter destination show. */
export interface RejectionEvent {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  /** Target index, undefined when the record could not even be decoded. */
  readonly index: string | undefined;
  /** Elasticsearch error type (e.g. `mapper_parsing_exception`), or our own for local failures. */
  readonly errorType: string;
  readonly reason: string;
  /** The beginning of the document source, so the rejected data is visible. */
  readonly excerpt: string;
}

/**
 * Telemetry hooks of the sink. The metrics module implements this; the sink never
 * imports prom-client. Every method must be cheap and must not throw.
 * Strings passed as `reason` in `recordSkipped` and `RejectionEvent` are free text:
 * do not use them as metric labels (unbounded); `errorType` is fairly bounded.
 */
export interface SinkObserver {
  /** One bulk request returned or failed. `bytes` is the request body size. */
  bulkCompleted(event: {
    readonly outcome: BulkOutcome;
    readonly durationMs: number;
    readonly documents: number;
    readonly bytes: number;
  }): void;
  /** Documents settled as present in Elasticsearch, in total and per index. */
  documentsIndexed(count: number, byIndex: ReadonlyMap<string, number>): void;
  /** Documents Elasticsearch kept in a data stream's failure store, per data stream written to. */
  documentsFailureStored(count: number, byIndex: ReadonlyMap<string, number>): void;
  /** A record took its index template's fallback (`{field:...|FALLBACK}`): why. */
  indexFieldFallback(topic: string, reason: "missing" | "not_string" | "limit"): void;
  /** Documents that failed transiently and are being sent again. */
  documentsRetried(count: number, reason: RetryReason): void;
  /**
   * Documents (or a whole request) refused for a reason an operator must fix; they are
   * held and retried (also counted by `documentsRetried` as `blocked`). `errorType` is
   * Elasticsearch's (`index_not_found_exception`...) or `http_<status>`.
   */
  operatorActionNeeded(count: number, errorType: string): void;
  /** A record was permanently rejected (called once per record, whatever the failure policy). */
  documentRejected(event: RejectionEvent): void;
  /** The decoder chose not to send a record (e.g. an empty value); it is acked at once. */
  recordSkipped(record: KafkaRecord, reason: string): void;
  /** Bulk requests currently in flight (or waiting in backoff), after each change. */
  inFlight(requests: number): void;
  /** Bulk requests allowed in flight (the adaptive concurrency limit), after each change. */
  concurrencyLimit(limit: number): void;
  /** A record was settled and acked (for end-to-end latency from `record.timestamp`). */
  recordAcked(record: KafkaRecord): void;
  /** Records of `topic` settled with `outcome` (the reconciliation counts). */
  recordsSettled(topic: string, outcome: SettleOutcome, count: number): void;
  /** A rejected record was written to the dead-letter topic and Kafka acknowledged it. */
  deadLettered(event: RejectionEvent): void;
  /** A dead-letter write failed; the record is held and the write retried. */
  deadLetterFailed(record: KafkaRecord): void;
}

/** The pino-compatible subset the sink logs through. */
export interface SinkLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

const ignore = (): void => undefined;

export const noopObserver: SinkObserver = {
  bulkCompleted: ignore,
  documentsIndexed: ignore,
  documentsFailureStored: ignore,
  indexFieldFallback: ignore,
  documentsRetried: ignore,
  operatorActionNeeded: ignore,
  documentRejected: ignore,
  recordSkipped: ignore,
  inFlight: ignore,
  concurrencyLimit: ignore,
  recordAcked: ignore,
  recordsSettled: ignore,
  deadLettered: ignore,
  deadLetterFailed: ignore,
};

export const noopLogger: SinkLogger = { debug: ignore, info: ignore, warn: ignore, error: ignore };
