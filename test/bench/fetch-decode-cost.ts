/**
 * What decoding fetched record batches costs per record: kafkajs' own decoder against
 * the worker's (src/source/client/record-batch-decoder.ts), on the bench's records in
 * batches of a fetch's size, uncompressed as the bench produces them. Part of
 * `make bench-hot-path`.
 */
import { decodeRecordBatch, type KafkajsDecoder } from "../../src/source/client/record-batch-decoder.ts";
import { batchDecoderDeps, encodeRecordBatch, kafkajsBatchDecoder, KafkajsDecoderClass } from "../support/record-batches.ts";
import { makeRecord } from "./data.ts";
import type { Variant } from "./settings.ts";

const RECORDS_PER_BATCH = 500;

export interface FetchDecodeCost {
  readonly variant: Variant;
  readonly kafkajsMicros: number;
  readonly oursMicros: number;
}

async function batches(variant: Variant, count: number, recordBytes: number): Promise<Buffer> {
  const encoded: Buffer[] = [];
  for (let first = 0; first < count; first += RECORDS_PER_BATCH) {
    const records = Array.from({ length: Math.min(RECORDS_PER_BATCH, count - first) }, (_, i) => ({
      key: null,
      value: Buffer.from(makeRecord(variant, first + i, recordBytes)),
      timestampDelta: i,
    }));
    encoded.push(await encodeRecordBatch(records, { firstOffset: BigInt(first), firstTimestamp: 1_733_212_345_678 + first }));
  }
  return Buffer.concat(encoded);
}

/** CPU µs per record of decoding every batch in `bytes`, best of `rounds`. */
async function bestMicros(bytes: Buffer, count: number, rounds: number, decode: (decoder: KafkajsDecoder) => Promise<unknown>): Promise<number> {
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < rounds; r++) {
    const decoder = new KafkajsDecoderClass(bytes);
    const start = process.cpuUsage();
    while (decoder.offset < bytes.length) await decode(decoder);
    const used = process.cpuUsage(start);
    best = Math.min(best, (used.user + used.system) / count);
  }
  return best;
}

export async function fetchDecodeCosts(variants: readonly Variant[], count: number, recordBytes: number, rounds: number): Promise<FetchDecodeCost[]> {
  const costs: FetchDecodeCost[] = [];
  for (const variant of variants) {
    const bytes = await batches(variant, count, recordBytes);
    const kafkajsMicros = await bestMicros(bytes, count, rounds, kafkajsBatchDecoder);
    const oursMicros = await bestMicros(bytes, count, rounds, (decoder) => decodeRecordBatch(decoder, batchDecoderDeps));
    costs.push({ variant, kafkajsMicros, oursMicros });
  }
  return costs;
}

export function fetchDecodeTable(costs: readonly FetchDecodeCost[]): string {
  const lines = ["| variant | kafkajs µs/record | ours µs/record | ours / kafkajs |", "|---|--:|--:|--:|"];
  for (const c of costs) lines.push(`| ${c.variant} | ${c.kafkajsMicros.toFixed(2)} | ${c.oursMicros.toFixed(2)} | ${(c.oursMicros / c.kafkajsMicros).toFixed(2)} |`);
  return lines.join("\n");
}
