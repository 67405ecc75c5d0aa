/**
 * Kafka record batches written by kafkajs' own encoder, and kafkajs' own decoders, for
 * the tests and the bench that hold our record batch decoder against kafkajs'.
 */
import { createRequire } from "node:module";
import path from "node:path";
import type { BatchContext, BatchDecoderDeps, DecodedRecord, KafkajsDecoder, RecordCodec } from "../../src/source/client/record-batch-decoder.ts";

const require = createRequire(import.meta.url);
const root = path.dirname(require.resolve("kafkajs/package.json"));
const kafkajsFile = (file: string): unknown => require(path.join(root, "src", file));

type DecoderClass = new (buffer: Buffer) => KafkajsDecoder;
export const KafkajsDecoderClass = kafkajsFile("protocol/decoder.js") as DecoderClass;
/** kafkajs' own record batch decoder (not replaced: this module never installs ours). */
export const kafkajsBatchDecoder = kafkajsFile("protocol/recordBatch/v0/decoder.js") as (decoder: KafkajsDecoder) => Promise<{ records: DecodedRecord[] }>;
const recordDecoder = kafkajsFile("protocol/recordBatch/record/v0/decoder.js") as (decoder: KafkajsDecoder, context: BatchContext) => DecodedRecord;
const { RecordBatch } = kafkajsFile("protocol/recordBatch/v0/index.js") as { RecordBatch: (options: Record<string, unknown>) => Promise<{ buffer: Buffer }> };
const encodeRecord = kafkajsFile("protocol/recordBatch/record/v0/index.js") as (record: Record<string, unknown>) => unknown;
const compression = kafkajsFile("protocol/message/compression/index.js") as { lookupCodecByAttributes: (attributes: number) => RecordCodec | null };
const { KafkaJSPartialMessageError } = kafkajsFile("errors.js") as { KafkaJSPartialMessageError: new (message: string) => Error };
/** kafkajs' fetch response decoder for the record sets of one partition. */
export const kafkajsDecodeMessages = (): ((decoder: KafkajsDecoder) => Promise<DecodedRecord[]>) =>
  kafkajsFile("protocol/requests/fetch/v4/decodeMessages.js") as (decoder: KafkajsDecoder) => Promise<DecodedRecord[]>;

/** What `decodeRecordBatch` needs, from kafkajs, as the worker installs it. */
export const batchDecoderDeps: BatchDecoderDeps = {
  codecFor: compression.lookupCodecByAttributes,
  fallback: (bytes, context) => recordDecoder(new KafkajsDecoderClass(bytes), context),
  partialError: (message) => new KafkaJSPartialMessageError(message),
};

export interface BatchRecord {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly timestampDelta: number;
  readonly headers?: Readonly<Record<string, Buffer | Buffer[]>>;
}

export interface BatchOptions {
  readonly firstOffset: bigint;
  readonly firstTimestamp: number;
  /** kafkajs' compression type (0 none, 1 gzip). */
  readonly compression?: number;
}

/** One record batch (magic 2) as kafkajs' producer writes it. */
export async function encodeRecordBatch(records: readonly BatchRecord[], options: BatchOptions): Promise<Buffer> {
  const encoded = await RecordBatch({
    compression: options.compression ?? 0,
    firstOffset: options.firstOffset,
    firstTimestamp: options.firstTimestamp,
    maxTimestamp: options.firstTimestamp + Math.max(0, ...records.map((r) => r.timestampDelta)),
    lastOffsetDelta: Math.max(0, records.length - 1),
    producerId: 7n,
    records: records.map((r, i) => encodeRecord({ offsetDelta: i, timestampDelta: r.timestampDelta, key: r.key, value: r.value, headers: r.headers ?? {} })),
  });
  return encoded.buffer;
}
