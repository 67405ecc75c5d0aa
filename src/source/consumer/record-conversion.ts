import type { IHeaders, KafkaMessage } from "kafkajs";
import type { KafkaRecord } from "../../pipeline/record.ts";

type FlatHeaders = Readonly<Record<string, Buffer | string | undefined>>;

/** Shared by every record without headers (most): no object per record. */
const NO_HEADERS: FlatHeaders = Object.freeze({});

/** Header values are bytes, strings or arrays of them; a document needs one value per key. */
function flattenHeaders(headers: IHeaders | undefined): FlatHeaders {
  if (!headers) return NO_HEADERS;
  const names = Object.keys(headers);
  if (names.length === 0) return NO_HEADERS;
  const flat: Record<string, Buffer | string | undefined> = {};
  for (const name of names) {
    const value = headers[name];
    flat[name] = Array.isArray(value) ? value[value.length - 1] : value;
  }
  return flat;
}

function headersSize(headers: IHeaders | undefined): number {
  if (!headers) return 0;
  let size = 0;
  for (const [name, value] of Object.entries(headers)) {
    size += name.length;
    if (Array.isArray(value)) for (const v of value) size += v.length;
    else if (value !== undefined) size += value.length;
  }
  return size;
}

/** Fixed per-record overhead of the JS objects around the bytes, for memory accounting. */
export const RECORD_OVERHEAD_BYTES = 160;

/**
 * A kafkajs message as the pipeline's record, with its size for the queue's budget.
 * Key and value stay the slices of the fetch response kafkajs hands out, not copies:
 * a copy per record doubled the bytes allocated and collected per record, for no
 * gain in peak memory since a response is capped at a share of the queue's budget
 * (fetch-budget.ts) and records are settled roughly in fetch order.
 */
export function toKafkaRecord(topic: string, partition: number, m: KafkaMessage): KafkaRecord {
  return {
    topic,
    partition,
    offset: m.offset,
    timestamp: Number(m.timestamp),
    key: m.key ?? null,
    value: m.value ?? null,
    headers: flattenHeaders(m.headers),
    size: RECORD_OVERHEAD_BYTES + (m.key?.length ?? 0) + (m.value?.length ?? 0) + headersSize(m.headers),
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
