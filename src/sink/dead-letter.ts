/**
 * The dead-letter record: what is written to the dead-letter topic for a record
 * Elasticsearch refused for good (or that could not even be turned into a document).
 * Pure: no Kafka client here. The composition root hands the sink a `DeadLetterWriter`
 * backed by a Kafka producer.
 *
 * The record keeps the original key, value bytes, headers and timestamp, so that it can
 * be replayed as it was, and adds the headers below (names fixed: tools rely on them).
 * `source.*` always name the record's first home, also when a redriven record fails
 * again: its id and index are derived from them.
 */
import type { KafkaRecord } from "../pipeline/record.ts";
import type { Rejection } from "./failure-policy.ts";

export const DEAD_LETTER_HEADERS = {
  sourceTopic: "source.topic",
  sourcePartition: "source.partition",
  sourceOffset: "source.offset",
  status: "error.status",
  type: "error.type",
  reason: "error.reason",
  index: "error.index",
  time: "error.time",
  attempt: "error.attempt",
} as const;

const OUR_HEADERS: ReadonlySet<string> = new Set(Object.values(DEAD_LETTER_HEADERS));

/** `error.reason` is cut to this many UTF-8 bytes: ES reasons can quote a whole document. */
export const MAX_REASON_BYTES = 1024;

/** A record to append to the dead-letter topic, in the shape a Kafka producer takes. */
export interface DeadLetterRecord {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Readonly<Record<string, Buffer | string>>;
  /** Milliseconds since the epoch, as a decimal string (the original record's timestamp). */
  readonly timestamp: string | undefined;
}

/**
 * Appends records to the dead-letter topic. `write` resolves only once Kafka
 * acknowledged the record from all in-sync replicas, and rejects otherwise (topic
 * missing, not authorized, brokers down); the caller retries.
 */
export interface DeadLetterWriter {
  write(record: DeadLetterRecord): Promise<void>;
}

/**
 * A record read back from the dead-letter topic for redrive, presented as its source
 * record (topic, partition, offset of its first home) so that the decoder routes it and
 * names it exactly as it would have the first time. `deadLetterAttempt` is how often it
 * was dead-lettered already.
 */
export interface RedrivenRecord extends KafkaRecord {
  readonly deadLetterAttempt: number;
}

export function isRedriven(record: KafkaRecord): record is RedrivenRecord {
  return typeof (record as Partial<RedrivenRecord>).deadLetterAttempt === "number";
}

/** `text` cut to at most `maxBytes` UTF-8 bytes without splitting a character. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  const marker = "…";
  const budget = Math.max(0, maxBytes - Buffer.byteLength(marker));
  const cut = Buffer.from(text).subarray(0, budget).toString("utf8");
  // A split character decodes to U+FFFD at the end: drop it.
  return `${cut.endsWith("\uFFFD") ? cut.slice(0, -1) : cut}${marker}`;
}

/** The record's headers without the ones this module owns (a redriven record carries old ones). */
function originalHeaders(headers: KafkaRecord["headers"]): Record<string, Buffer | string> {
  const kept: Record<string, Buffer | string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !OUR_HEADERS.has(name)) kept[name] = value;
  }
  return kept;
}

/** The dead-letter record for a rejection, stamped with the time `nowMs`. */
export function deadLetterRecord(rejection: Rejection, nowMs: number): DeadLetterRecord {
  const { record } = rejection;
  const attempt = (isRedriven(record) ? record.deadLetterAttempt : 0) + 1;
  const headers: Record<string, Buffer | string> = {
    ...originalHeaders(record.headers),
    [DEAD_LETTER_HEADERS.sourceTopic]: record.topic,
    [DEAD_LETTER_HEADERS.sourcePartition]: String(record.partition),
    [DEAD_LETTER_HEADERS.sourceOffset]: record.offset,
    // 0 when the record failed before reaching Elasticsearch (undecodable, unroutable).
    [DEAD_LETTER_HEADERS.status]: String(rejection.status ?? 0),
    [DEAD_LETTER_HEADERS.type]: rejection.errorType,
    [DEAD_LETTER_HEADERS.reason]: truncateUtf8(rejection.reason, MAX_REASON_BYTES),
    [DEAD_LETTER_HEADERS.index]: rejection.action?.index ?? "",
    [DEAD_LETTER_HEADERS.time]: new Date(nowMs).toISOString(),
    [DEAD_LETTER_HEADERS.attempt]: String(attempt),
  };
  const timestamp = Number.isFinite(record.timestamp) && record.timestamp >= 0 ? String(record.timestamp) : undefined;
  return { key: record.key, value: record.value, headers, timestamp };
}

/** Why a dead-letter record cannot be redriven, or its source coordinates. */
export type SourceCoordinates =
  | { readonly ok: true; readonly topic: string; readonly partition: number; readonly offset: string; readonly attempt: number }
  | { readonly ok: false; readonly problem: string };

function headerText(headers: KafkaRecord["headers"], name: string): string | undefined {
  const value = headers[name];
  return value === undefined ? undefined : value.toString();
}

/** Reads the `source.*` and `error.attempt` headers of a record from the dead-letter topic. */
export function sourceCoordinates(headers: KafkaRecord["headers"]): SourceCoordinates {
  const topic = headerText(headers, DEAD_LETTER_HEADERS.sourceTopic);
  const partition = headerText(headers, DEAD_LETTER_HEADERS.sourcePartition);
  const offset = headerText(headers, DEAD_LETTER_HEADERS.sourceOffset);
  const attempt = headerText(headers, DEAD_LETTER_HEADERS.attempt) ?? "1";
  if (topic === undefined || topic === "") return { ok: false, problem: `no ${DEAD_LETTER_HEADERS.sourceTopic} header` };
  if (partition === undefined || !/^\d+$/.test(partition)) {
    return { ok: false, problem: `${DEAD_LETTER_HEADERS.sourcePartition} header is not a partition number: ${JSON.stringify(partition ?? null)}` };
  }
  if (offset === undefined || !/^\d+$/.test(offset)) {
    return { ok: false, problem: `${DEAD_LETTER_HEADERS.sourceOffset} header is not an offset: ${JSON.stringify(offset ?? null)}` };
  }
  const tries = /^\d+$/.test(attempt) ? Number(attempt) : 1;
  return { ok: true, topic, partition: Number(partition), offset, attempt: tries };
}

/**
 * The source record a dead-letter record stands for: its first home's coordinates, its
 * original key, value, timestamp and headers (those this module added removed), and how
 * often it was dead-lettered. Undefined when the `source.*` headers are missing or wrong.
 */
export function redrivenRecord(record: KafkaRecord): RedrivenRecord | undefined {
  const source = sourceCoordinates(record.headers);
  if (!source.ok) return undefined;
  return {
    topic: source.topic,
    partition: source.partition,
    offset: source.offset,
    timestamp: record.timestamp,
    key: record.key,
    value: record.value,
    headers: originalHeaders(record.headers),
    size: record.size,
    deadLetterAttempt: source.attempt,
  };
}
