import type { IHeaders, KafkaMessage } from "kafkajs";
import type { KafkaRecord } from "../pipeline/record.ts";

/** Header values are bytes, strings or arrays of them; a document needs one value per key. */
function flattenHeaders(headers: IHeaders | undefined): Record<string, Buffer | string | undefined> {
  const flat: Record<string, Buffer | string | undefined> = {};
  if (!headers) return flat;
  for (const [name, value] of Object.entries(headers)) {
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

/** A kafkajs message as the pipeline's record: its own copy of the bytes, its size for the queue's budget. */
export function toKafkaRecord(topic: string, partition: number, m: KafkaMessage): KafkaRecord {
  return {
    topic,
    partition,
    offset: m.offset,
    timestamp: Number(m.timestamp),
    // Copies: kafkajs hands out slices of the whole fetch response, and one queued
    // slice would keep that multi-MiB response alive.
    key: m.key ? Buffer.from(m.key) : null,
    value: m.value ? Buffer.from(m.value) : null,
    headers: flattenHeaders(m.headers),
    size: RECORD_OVERHEAD_BYTES + (m.key?.length ?? 0) + (m.value?.length ?? 0) + headersSize(m.headers),
  };
}
