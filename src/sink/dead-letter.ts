/**
 * The dead-letter record: what is written to the dead-letter topic for a record
 * Elasticsearch refused for good (or that could not even be turned into a document).
 * Pure: no Kafka client here. The composition root hands the sink a `DeadLetterWriter`
 * backed by a Kafka producer.
 *
 * The record keeps the original key, value bytes and headers, so that it can be
 * redriven as it was, and adds the headers below (names fixed: tools rely on them).
 * `source.*` always name the record's first home, also when a redriven record fails
 * again: its id and index are derived from them.
 *
 * Its Kafka timestamp is the time it was written, not the source record's: a dead
 * letter of an old record (a replay, a backlog caught up) would otherwise land already
 * past the dead-letter topic's `retention.ms` and be deleted before anyone redrives it.
 * The source timestamp travels in `source.timestamp` ("-1" when the record had none),
 * and redrive dates the record by it, so it goes to the index of its original date.
 *
 * Null header values (which a kafkajs producer cannot write) are written as empty
 * values, and `source.null-headers` says which were null (JSON: name -> positions among
 * that name's values), so redrive restores them.
 */
import { isRepeatedHeader, type HeaderBytes, type HeaderValue, type KafkaRecord, type RecordHeaders } from "../pipeline/record.ts";
import type { Rejection } from "./failure-policy.ts";

export const DEAD_LETTER_HEADERS = {
  sourceTopic: "source.topic",
  sourcePartition: "source.partition",
  sourceOffset: "source.offset",
  sourceTimestamp: "source.timestamp",
  sourceNullHeaders: "source.null-headers",
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

/** A header of a dead-letter record: bytes, or the values of a repeated name (never null). */
export type DeadLetterHeaderValue = HeaderBytes | readonly HeaderBytes[];

/** A record to append to the dead-letter topic, in the shape a Kafka producer takes. */
export interface DeadLetterRecord {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Readonly<Record<string, DeadLetterHeaderValue>>;
  /** When it was dead-lettered: milliseconds since the epoch, as a decimal string. */
  readonly timestamp: string;
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

/** Kafka's "no timestamp", written to `source.timestamp` for a record that had none. */
const NO_TIMESTAMP = "-1";

/** `source.timestamp`: the record's timestamp as a decimal string, or "-1" when it had none. */
function sourceTimestampHeader(timestamp: number): string {
  return Number.isFinite(timestamp) && timestamp >= 0 ? String(timestamp) : NO_TIMESTAMP;
}

/** Positions of the null values among a header's values (a single value is position 0). */
function nullPositions(value: HeaderValue): number[] {
  if (!isRepeatedHeader(value)) return value === null ? [0] : [];
  const positions: number[] = [];
  value.forEach((v, i) => {
    if (v === null) positions.push(i);
  });
  return positions;
}

function withoutNulls(value: HeaderValue): DeadLetterHeaderValue {
  if (!isRepeatedHeader(value)) return value ?? "";
  return value.map((v) => v ?? "");
}

/**
 * The source record's headers as a producer can write them, without the ones this module
 * owns (a redriven record carries old ones): null values become empty, and their places
 * go into `source.null-headers`. Built with `Object.fromEntries`, so any header name
 * (`__proto__` included) stays a plain header.
 */
function writableHeaders(headers: RecordHeaders): [string, DeadLetterHeaderValue][] {
  const kept: [string, DeadLetterHeaderValue][] = [];
  const nulls: [string, number[]][] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (OUR_HEADERS.has(name)) continue;
    const positions = nullPositions(value);
    if (positions.length > 0) nulls.push([name, positions]);
    kept.push([name, withoutNulls(value)]);
  }
  if (nulls.length > 0) kept.push([DEAD_LETTER_HEADERS.sourceNullHeaders, JSON.stringify(Object.fromEntries(nulls))]);
  return kept;
}

/** The dead-letter record for a rejection, written at `nowMs` (its Kafka timestamp). */
export function deadLetterRecord(rejection: Rejection, nowMs: number): DeadLetterRecord {
  const { record } = rejection;
  const attempt = (isRedriven(record) ? record.deadLetterAttempt : 0) + 1;
  const headers: [string, DeadLetterHeaderValue][] = [
    ...writableHeaders(record.headers),
    [DEAD_LETTER_HEADERS.sourceTopic, record.topic],
    [DEAD_LETTER_HEADERS.sourcePartition, String(record.partition)],
    [DEAD_LETTER_HEADERS.sourceOffset, record.offset],
    [DEAD_LETTER_HEADERS.sourceTimestamp, sourceTimestampHeader(record.timestamp)],
    // 0 when the record failed before reaching Elasticsearch (undecodable, unroutable).
    [DEAD_LETTER_HEADERS.status, String(rejection.status ?? 0)],
    [DEAD_LETTER_HEADERS.type, rejection.errorType],
    [DEAD_LETTER_HEADERS.reason, truncateUtf8(rejection.reason, MAX_REASON_BYTES)],
    [DEAD_LETTER_HEADERS.index, rejection.action?.index ?? ""],
    [DEAD_LETTER_HEADERS.time, new Date(nowMs).toISOString()],
    [DEAD_LETTER_HEADERS.attempt, String(attempt)],
  ];
  return { key: record.key, value: record.value, headers: Object.fromEntries(headers), timestamp: String(nowMs) };
}

/** Why a dead-letter record cannot be redriven, or its source coordinates. */
export type SourceCoordinates =
  | { readonly ok: true; readonly topic: string; readonly partition: number; readonly offset: string; readonly attempt: number }
  | { readonly ok: false; readonly problem: string };

/** A header as text: the last value of a repeated name; undefined when absent or null. */
function headerText(headers: RecordHeaders, name: string): string | undefined {
  const value = headers[name];
  const last = value !== undefined && isRepeatedHeader(value) ? value[value.length - 1] : value;
  return last === undefined || last === null ? undefined : last.toString();
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
 * The source record's timestamp: `source.timestamp` ("-1": it had none), or the dead
 * letter's own timestamp for dead letters written before that header existed (they kept
 * the source timestamp). An unreadable header counts as none.
 */
function sourceTimestamp(record: KafkaRecord): number {
  const text = headerText(record.headers, DEAD_LETTER_HEADERS.sourceTimestamp);
  if (text === undefined) return record.timestamp;
  return /^-?\d{1,19}$/.test(text) ? Number(text) : Number(NO_TIMESTAMP);
}

/** `source.null-headers` as name -> positions; empty when absent or unreadable. */
function nullHeaderPositions(headers: RecordHeaders): Map<string, number[]> {
  const text = headerText(headers, DEAD_LETTER_HEADERS.sourceNullHeaders);
  if (text === undefined) return new Map();
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== "object" || parsed === null) return new Map();
    return new Map(Object.entries(parsed).filter((e): e is [string, number[]] => Array.isArray(e[1]) && e[1].every(Number.isInteger)));
  } catch {
    return new Map();
  }
}

function restoreNulls(value: HeaderValue, positions: readonly number[]): HeaderValue {
  if (!isRepeatedHeader(value)) return positions.includes(0) ? null : value;
  return value.map((v, i) => (positions.includes(i) ? null : v));
}

/** The source record's headers: ours removed, null values put back. */
function sourceHeaders(headers: RecordHeaders): RecordHeaders {
  const nulls = nullHeaderPositions(headers);
  const kept: [string, HeaderValue][] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (OUR_HEADERS.has(name)) continue;
    const positions = nulls.get(name);
    kept.push([name, positions === undefined ? value : restoreNulls(value, positions)]);
  }
  return Object.fromEntries(kept);
}

/**
 * The source record a dead-letter record stands for: its first home's coordinates, its
 * original key, value, timestamp and headers (those this module added removed, null
 * values restored), and how often it was dead-lettered. Undefined when the `source.*`
 * headers are missing or wrong. Never throws: it runs on every record redrive reads.
 */
export function redrivenRecord(record: KafkaRecord): RedrivenRecord | undefined {
  const source = sourceCoordinates(record.headers);
  if (!source.ok) return undefined;
  return {
    topic: source.topic,
    partition: source.partition,
    offset: source.offset,
    timestamp: sourceTimestamp(record),
    key: record.key,
    value: record.value,
    headers: sourceHeaders(record.headers),
    size: record.size,
    deadLetterAttempt: source.attempt,
  };
}
