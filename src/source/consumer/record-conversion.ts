import type { IHeaders, KafkaMessage } from "kafkajs";
import type { HeaderBytes, HeaderValue, KafkaRecord, RecordHeaders } from "../../pipeline/record.ts";

/**
 * kafkajs message -> pipeline record. Every record shape Kafka can carry converts without
 * an exception (a TypeError thrown in `eachBatch` stops kafkajs' consumer for good, and
 * the record, never committed, would stop every replica that takes its partition):
 *
 * - headers are kept as kafkajs decoded them, without a copy: bytes, `null` for a null
 *   value (Java and librdkafka producers send these), an array for a repeated key;
 *   except the names kafkajs mangles (`constructor`, `__proto__`: see repairInherited);
 * - null and empty keys and values stay null and empty;
 * - a timestamp that is not a number becomes -1, Kafka's "no timestamp" (the decoder
 *   dates those at the epoch; metrics need finite numbers).
 *
 * Records of aborted transactions never reach this point: kafkajs reads with
 * read_committed and drops them (and the control records) before `eachBatch`.
 */

/** Shared by every record without headers (most): no object per record. */
const NO_HEADERS: RecordHeaders = Object.freeze({});

/** Kafka's "no timestamp". */
const NO_TIMESTAMP = -1;

/** Bytes one header value holds; -1 when it is not a shape kafkajs decodes (see normalizeHeaders). */
function valueBytes(value: unknown): number {
  if (value === null) return 0;
  if (typeof value === "string" || Buffer.isBuffer(value)) return value.length;
  return -1;
}

/** Bytes the headers hold (names and values), or -1 when one value is of an unexpected type. */
function headersSize(headers: IHeaders): number {
  let size = 0;
  for (const name of Object.keys(headers)) {
    const value: unknown = headers[name];
    size += name.length;
    if (!Array.isArray(value)) {
      const bytes = valueBytes(value);
      if (bytes < 0) return -1;
      size += bytes;
      continue;
    }
    for (const item of value as unknown[]) {
      const bytes = valueBytes(item);
      if (bytes < 0) return -1;
      size += bytes;
    }
  }
  return size;
}

function normalizeValue(value: unknown): HeaderBytes | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "string" || Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value);
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  // An object, a function, a symbol: nothing a Kafka header carries.
  return null;
}

/** What kafkajs' header decoder finds for a name before the record's first header of that name. */
const PLAIN_OBJECT: Readonly<Record<string, unknown>> = {};
const NOT_INHERITED = Symbol("not inherited");

/**
 * kafkajs 2.2.4 collects headers with `obj[key] === undefined ? value : [obj[key], value]`
 * on a plain object, so a name that object inherits (`constructor`, `toString`,
 * `__proto__`, ...) comes out as `[<the inherited member>, value]`. Those members are
 * dropped again here, and a single remaining value is one value, as it was sent.
 */
function repairInherited(name: string, values: readonly unknown[]): unknown {
  const inherited = name in PLAIN_OBJECT ? PLAIN_OBJECT[name] : NOT_INHERITED;
  const kept = values.filter((v) => v !== inherited);
  if (kept.length === values.length) return values;
  return kept.length === 1 ? kept[0] : kept;
}

/**
 * Headers with a value kafkajs does not decode that way (see repairInherited; a message
 * built in-process): undefined is dropped, other bytes-like values become Buffers,
 * anything else its string. Built with `Object.fromEntries`, so a header named
 * `__proto__` stays a header.
 */
function normalizeHeaders(headers: IHeaders): RecordHeaders {
  const entries: [string, HeaderValue][] = [];
  for (const [name, given] of Object.entries(headers as Record<string, unknown>)) {
    const value = Array.isArray(given) ? repairInherited(name, given) : given;
    if (value === undefined) continue;
    entries.push([name, Array.isArray(value) ? (value as unknown[]).map(normalizeValue) : normalizeValue(value)]);
  }
  return entries.length === 0 ? NO_HEADERS : Object.fromEntries(entries);
}

function hasOwnKeys(object: object): boolean {
  for (const name in object) if (Object.hasOwn(object, name)) return true;
  return false;
}

/** Fixed per-record overhead of the JS objects around the bytes, for memory accounting. */
export const RECORD_OVERHEAD_BYTES = 160;

/**
 * A kafkajs message as the pipeline's record, with its size for the queue's budget.
 * Key and value stay the slices of the fetch response kafkajs hands out, not copies:
 * a copy per record doubled the bytes allocated and collected per record, for no
 * gain in peak memory since a response is capped at a share of the queue's budget
 * (shared/memory-model.ts) and records are settled roughly in fetch order.
 */
export function toKafkaRecord(topic: string, partition: number, m: KafkaMessage): KafkaRecord {
  let headers = NO_HEADERS;
  let headerBytes = 0;
  const given = m.headers as IHeaders | null | undefined;
  if (given !== undefined && given !== null && hasOwnKeys(given)) {
    headerBytes = headersSize(given);
    // kafkajs builds a fresh object per record: kept as it is unless a value is odd.
    headers = headerBytes >= 0 ? (given as RecordHeaders) : normalizeHeaders(given);
    if (headerBytes < 0) headerBytes = headersSize(headers as IHeaders);
  }
  const timestamp = Number(m.timestamp);
  return {
    topic,
    partition,
    offset: m.offset,
    timestamp: Number.isFinite(timestamp) ? timestamp : NO_TIMESTAMP,
    key: m.key ?? null,
    value: m.value ?? null,
    headers,
    size: RECORD_OVERHEAD_BYTES + (m.key?.length ?? 0) + (m.value?.length ?? 0) + headerBytes,
  };
}

/**
 * The part of a fetched batch below `end` (exclusive): its messages, and the offset the
 * batch counts as read up to (never past `end - 1`). Undefined when the batch starts at
 * or past `end`. Messages come in offset order.
 */
export function boundBatch<M extends { readonly offset: string }>(
  messages: readonly M[],
  firstOffset: string,
  lastOffset: string,
  end: bigint,
): { messages: M[]; lastOffset: string } | undefined {
  if (BigInt(firstOffset) >= end) return undefined;
  const kept = messages.filter((m) => BigInt(m.offset) < end);
  const last = BigInt(lastOffset) < end ? lastOffset : (end - 1n).toString();
  return { messages: kept, lastOffset: last };
}
