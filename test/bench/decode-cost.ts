/**
 * What decompressing a variant's batches costs the worker: the variant's records in
 * batches of the size librdkafka sends (~500 records), compressed with the variant's
 * codec, then decompressed through the codec the worker registers with kafkajs, on one
 * thread, best of three rounds. Also runnable alone: `node test/bench/decode-cost.ts`.
 */
import { gunzip, gzipSync } from "node:zlib";
import { promisify } from "node:util";
import { lz4Codec, snappyCodec, zstdCodec, type KafkaCodec } from "../../src/source/client/compression.ts";
import { makeRecord } from "./data.ts";
import { CODECS, type Codec } from "./settings.ts";

export interface DecodeCost {
  readonly codec: Codec;
  readonly records: number;
  /** Compressed bytes over raw bytes. */
  readonly ratio: number;
  readonly microsPerRecord: number;
  /** MiB of records decompressed per second. */
  readonly mibPerSecond: number;
}

const gzipCodec: KafkaCodec = {
  compress: (encoder) => Promise.resolve(gzipSync(encoder.buffer)),
  decompress: promisify(gunzip),
};
const CODEC_OF: Record<Codec, KafkaCodec> = { gzip: gzipCodec, snappy: snappyCodec, lz4: lz4Codec, zstd: zstdCodec };

export async function decodeCost(codec: Codec, recordBytes: number, records = 20_000, batchRecords = 500): Promise<DecodeCost> {
  const impl = CODEC_OF[codec];
  const batches: Buffer[] = [];
  let raw = 0;
  let compressed = 0;
  for (let start = 0; start < records; start += batchRecords) {
    const lines: string[] = [];
    for (let i = start; i < Math.min(records, start + batchRecords); i++) lines.push(makeRecord("json", i, recordBytes));
    const buffer = Buffer.from(lines.join(""));
    raw += buffer.length;
    const packed = await impl.compress({ buffer });
    compressed += packed.length;
    batches.push(packed);
  }
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 3; round++) {
    const started = performance.now();
    for (const batch of batches) await impl.decompress(batch);
    best = Math.min(best, performance.now() - started);
  }
  return {
    codec,
    records,
    ratio: compressed / raw,
    microsPerRecord: (best * 1000) / records,
    mibPerSecond: raw / (1024 * 1024) / (best / 1000),
  };
}

if (import.meta.main) {
  const recordBytes = Number(process.env.BENCH_RECORD_BYTES ?? "1024");
  for (const codec of CODECS) {
    const cost = await decodeCost(codec, recordBytes);
    process.stdout.write(
      `${codec.padEnd(7)} ${cost.microsPerRecord.toFixed(2)} µs/record  ${cost.mibPerSecond.toFixed(0)} MiB/s  compressed to ${(cost.ratio * 100).toFixed(1)}%\n`,
    );
  }
}
