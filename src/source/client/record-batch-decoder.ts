/**
 * A decoder for Kafka record batches (magic 2) that gives kafkajs' consumer exactly
 * the objects its own decoder gives (kafkajs 2.2.4, src/protocol/recordBatch/v0/decoder.js),
 * for a fraction of the work: kafkajs parses the batch's base offset and timestamp
 * from strings into BigInt-backed Longs twice per record, builds a Long per varint
 * byte of the timestamp delta, and slices and wraps every record in a decoder object
 * of its own. Here a record costs its own object and the two views of its key and
 * value: offsets and timestamps are added as numbers while they are safe integers.
 *
 * Anything outside that fast path (a header, an offset or timestamp beyond 2^53, a
 * varint longer than a safe integer) is handed to kafkajs' own record decoder, so
 * the output is kafkajs' in every case; test/unit/source/client/record-batch-decoder.test.ts
 * compares the two on generated batches.
 */

/** kafkajs' binary reader (src/protocol/decoder.js), as far as batches use it. */
export interface KafkajsDecoder {
  buffer: Buffer;
  offset: number;
}

/** kafkajs' own decoding of one record, given the record's bytes (the slow path). */
export type RecordFallback = (recordBytes: Buffer, context: BatchContext) => DecodedRecord;

export interface RecordCodec {
  decompress(buffer: Buffer): Promise<Buffer>;
}

/** The record batch's header fields, in kafkajs' order (its `recordContext`). */
export interface BatchHeader {
  readonly firstOffset: string;
  readonly firstTimestamp: string;
  readonly partitionLeaderEpoch: number;
  readonly inTransaction: boolean;
  readonly isControlBatch: boolean;
  readonly lastOffsetDelta: number;
  readonly producerId: string;
  readonly producerEpoch: number;
  readonly firstSequence: number;
  readonly maxTimestamp: string;
  readonly timestampType: number;
}

/** What every record of a batch points back to: the header and the magic byte. */
export interface BatchContext extends BatchHeader {
  readonly magicByte: number;
}

export interface DecodedRecord {
  readonly magicByte: number;
  readonly attributes: number;
  readonly timestamp: string;
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Readonly<Record<string, unknown>>;
  readonly isControlRecord: boolean;
  readonly batchContext: BatchContext;
}

export interface DecodedBatch extends BatchHeader {
  readonly records: DecodedRecord[];
}

export interface BatchDecoderDeps {
  /** kafkajs' codec for the batch's attributes (null: uncompressed). */
  readonly codecFor: (attributes: number) => RecordCodec | null;
  readonly fallback: RecordFallback;
  /** kafkajs' KafkaJSPartialMessageError: its fetch decoder stops at it, quietly. */
  readonly partialError: (message: string) => Error;
}

const TIMESTAMP_TYPE_FLAG_MASK = 0x8;
const TRANSACTIONAL_FLAG_MASK = 0x10;
const CONTROL_FLAG_MASK = 0x20;
const LOG_APPEND_TIME = 1;
const CREATE_TIME = 0;
/** Bytes from the end of the batch's length field to its first record (the record count included). */
const HEADER_BYTES = 49;

/** Records without headers share one (frozen) empty headers object. */
const NO_HEADERS: Readonly<Record<string, unknown>> = Object.freeze({});

/**
 * A varint as kafkajs reads it (zigzag over 32 bits; a longer encoding wraps the same
 * way). Reads from `state.at`, moves it on.
 */
function readVarInt(bytes: Buffer, state: { at: number }): number {
  let result = 0;
  let shift = 0;
  let byte: number;
  do {
    byte = bytes[state.at++] ?? 0;
    result += (byte & 0x7f) << shift;
    shift += 7;
  } while (byte >= 0x80);
  return (result >>> 1) ^ -(result & 1);
}

/** A varlong as a number, or NaN when it is not a safe integer (then kafkajs decodes the record). */
function readVarLong(bytes: Buffer, state: { at: number }): number {
  let raw = 0;
  let scale = 1;
  let byte: number;
  do {
    byte = bytes[state.at++] ?? 0;
    raw += (byte & 0x7f) * scale;
    scale *= 128;
    if (scale > 2 ** 56) return Number.NaN;
  } while (byte >= 0x80);
  if (raw > Number.MAX_SAFE_INTEGER) return Number.NaN;
  return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
}

function readHeader(bytes: Buffer, at: number, end: number, firstOffset: string, deps: BatchDecoderDeps): { header: BatchHeader; magicByte: number; attributes: number } {
  if (end - at < HEADER_BYTES - 4) throw deps.partialError(`Tried to decode a record batch header past its end`);
  const attributes = bytes.readInt16BE(at + 9);
  const header: BatchHeader = {
    firstOffset,
    firstTimestamp: bytes.readBigInt64BE(at + 15).toString(),
    partitionLeaderEpoch: bytes.readInt32BE(at),
    inTransaction: (attributes & TRANSACTIONAL_FLAG_MASK) > 0,
    isControlBatch: (attributes & CONTROL_FLAG_MASK) > 0,
    lastOffsetDelta: bytes.readInt32BE(at + 11),
    producerId: bytes.readBigInt64BE(at + 31).toString(),
    producerEpoch: bytes.readInt16BE(at + 39),
    firstSequence: bytes.readInt32BE(at + 41),
    maxTimestamp: bytes.readBigInt64BE(at + 23).toString(),
    timestampType: (attributes & TIMESTAMP_TYPE_FLAG_MASK) > 0 ? LOG_APPEND_TIME : CREATE_TIME,
  };
  return { header, magicByte: bytes.readInt8(at + 4), attributes };
}

/** Reads `count` records from `bytes` at `at`, up to `end`. */
function decodeRecords(bytes: Buffer, at: number, end: number, count: number, context: BatchContext, fallback: RecordFallback): DecodedRecord[] {
  const records = new Array<DecodedRecord>(count);
  const baseOffset = Number(context.firstOffset);
  const baseTimestamp = Number(context.firstTimestamp);
  // kafkajs takes the batch's max timestamp for every record of a log-append-time batch.
  const appendTime = context.timestampType === LOG_APPEND_TIME;
  const state = { at };
  for (let i = 0; i < count; i++) {
    const length = readVarInt(bytes, state);
    const start = state.at;
    const stop = start + length;
    if (length < 0 || stop > end) throw new RangeError(`record ${String(i)} of a batch at offset ${context.firstOffset} runs past the batch`);
    records[i] = decodeRecord(bytes, state, stop, context, baseOffset, baseTimestamp, appendTime) ?? fallback(bytes.subarray(start, stop), context);
    state.at = stop;
  }
  return records;
}

/** One record on the fast path, or undefined when kafkajs must decode it. */
function decodeRecord(bytes: Buffer, state: { at: number }, stop: number, context: BatchContext, baseOffset: number, baseTimestamp: number, appendTime: boolean): DecodedRecord | undefined {
  const attributes = bytes.readInt8(state.at++);
  const timestampDelta = readVarLong(bytes, state);
  const offsetDelta = readVarInt(bytes, state);
  const key = readBytes(bytes, state, stop);
  const value = readBytes(bytes, state, stop);
  if (key === undefined || value === undefined || readVarInt(bytes, state) !== 0) return undefined;
  const createTime = baseTimestamp + timestampDelta;
  const offset = baseOffset + offsetDelta;
  if ((!appendTime && !Number.isSafeInteger(createTime)) || !Number.isSafeInteger(offset)) return undefined;
  return {
    magicByte: context.magicByte,
    attributes,
    timestamp: appendTime ? context.maxTimestamp : String(createTime),
    offset: String(offset),
    key,
    value,
    headers: NO_HEADERS,
    isControlRecord: context.isControlBatch,
    batchContext: context,
  };
}

/** Varint-length bytes: null for -1, a view otherwise; undefined when malformed. */
function readBytes(bytes: Buffer, state: { at: number }, stop: number): Buffer | null | undefined {
  const length = readVarInt(bytes, state);
  if (length === -1) return null;
  const start = state.at;
  if (length < 0 || start + length > stop) return undefined;
  state.at = start + length;
  return bytes.subarray(start, start + length);
}

/**
 * Decodes the record batch at `source.offset` and moves the offset past it, as
 * kafkajs' RecordBatchDecoder does (including its partial-batch error, which its
 * fetch decoder takes as the end of the fetched data).
 */
export async function decodeRecordBatch(source: KafkajsDecoder, deps: BatchDecoderDeps): Promise<DecodedBatch> {
  const bytes = source.buffer;
  const at = source.offset;
  const firstOffset = bytes.readBigInt64BE(at).toString();
  const length = bytes.readInt32BE(at + 8);
  const start = at + 12;
  source.offset = start + length;
  const end = Math.min(start + length, bytes.length);
  if (end - start < length) {
    throw deps.partialError(`Tried to decode a partial record batch: remainingBytes(${String(end - start)}) < recordBatchLength(${String(length)})`);
  }
  const { header, magicByte, attributes } = readHeader(bytes, start, end, firstOffset, deps);
  const context: BatchContext = { ...header, magicByte };
  const count = bytes.readInt32BE(start + HEADER_BYTES - 4);
  const codec = deps.codecFor(attributes);
  if (codec === null) {
    const records = count === -1 ? [] : decodeRecords(bytes, start + HEADER_BYTES, end, count, context, deps.fallback);
    return { ...header, records };
  }
  if (count <= 0) return { ...header, records: [] };
  const inflated = await codec.decompress(bytes.subarray(start + HEADER_BYTES, end));
  return { ...header, records: decodeRecords(inflated, 0, inflated.length, count, context, deps.fallback) };
}
