/**
 * Compression codecs for compressed record batches. kafkajs decodes only gzip; a
 * snappy, lz4 or zstd batch crashes its consumer ("compression not implemented").
 * Filebeat writes gzip, everything built on librdkafka (Fluent Bit, kcat, Vector)
 * snappy, lz4 or zstd, so all four must decode.
 *
 * The codecs come from the npm registry as they are, nothing downloaded at install:
 * - snappy: `snappy` (napi-rs bindings of the Rust snap crate; per-platform binaries are
 *   published to the registry as optional dependencies);
 * - lz4: `lz4-napi` (napi-rs bindings of lz4_flex, same packaging);
 * - zstd and gzip: Node's own zlib (zstd since Node 23.8).
 * Decompression runs off the main thread (libuv pool): the event loop keeps heartbeating
 * while a large batch inflates.
 *
 * The two native addons are loaded on the first batch that needs them, not at start:
 * mapping them costs an idle worker about 9 (snappy) and 7 (lz4) MiB of RSS (issue 12),
 * and most topics never use either codec.
 */
import { promisify } from "node:util";
import zlib from "node:zlib";
import kafkajs from "kafkajs";
import type * as Lz4 from "lz4-napi";
import type * as Snappy from "snappy";

let snappyModule: Promise<typeof Snappy> | undefined;
let lz4Module: Promise<typeof Lz4> | undefined;
const snappy = (): Promise<typeof Snappy> => (snappyModule ??= import("snappy"));
const lz4 = (): Promise<typeof Lz4> => (lz4Module ??= import("lz4-napi"));

/** What kafkajs calls: `compress` gets its encoder (whose `buffer` is the batch's records). */
export interface KafkaCodec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

/**
 * The Java client (and librdkafka, for compatibility) frames snappy the way the xerial
 * snappy-java library does: an 8-byte magic, two 4-byte versions, then chunks, each a
 * 4-byte big-endian length and a raw snappy block. Other producers send one raw block.
 */
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_BYTES = 16;

export function isXerialFramed(buffer: Buffer): boolean {
  return buffer.length >= XERIAL_HEADER_BYTES && buffer.subarray(0, XERIAL_MAGIC.length).equals(XERIAL_MAGIC);
}

/** The raw snappy blocks of a xerial-framed buffer; throws on a truncated chunk. */
export function xerialChunks(buffer: Buffer): Buffer[] {
  const chunks: Buffer[] = [];
  let at = XERIAL_HEADER_BYTES;
  while (at < buffer.length) {
    if (at + 4 > buffer.length) throw new RangeError(`xerial snappy: truncated chunk length at byte ${String(at)}`);
    const size = buffer.readUInt32BE(at);
    at += 4;
    if (at + size > buffer.length) {
      throw new RangeError(`xerial snappy: chunk of ${String(size)} bytes at byte ${String(at)} exceeds the ${String(buffer.length)}-byte buffer`);
    }
    chunks.push(buffer.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

async function unsnappy(block: Buffer): Promise<Buffer> {
  const out = await (await snappy()).uncompress(block, { asBuffer: true });
  return typeof out === "string" ? Buffer.from(out) : out;
}

async function snappyDecompress(buffer: Buffer): Promise<Buffer> {
  if (!isXerialFramed(buffer)) return unsnappy(buffer);
  const parts = await Promise.all(xerialChunks(buffer).map(unsnappy));
  return parts.length === 1 && parts[0] !== undefined ? parts[0] : Buffer.concat(parts);
}

const zstdCompress = promisify(zlib.zstdCompress);
const zstdDecompress = promisify((buffer: Buffer, options: zlib.ZstdOptions, done: (error: Error | null, result: Buffer) => void) => {
  zlib.zstdDecompress(buffer, options, done);
});

export const snappyCodec: KafkaCodec = {
  // Raw blocks: every Kafka client reads them (snappy-java falls back to raw when the magic is absent).
  compress: async (encoder) => (await snappy()).compress(encoder.buffer),
  decompress: snappyDecompress,
};

export const lz4Codec: KafkaCodec = {
  compress: async (encoder) => (await lz4()).compressFrame(encoder.buffer),
  decompress: async (buffer) => (await lz4()).decompressFrame(buffer),
};

/** Output chunks of 1 MiB, not zlib's 16 KiB: a 500 KiB batch inflates in one step (about half the time, measured). */
const ZSTD_CHUNK_BYTES = 1024 * 1024;

export const zstdCodec: KafkaCodec = {
  compress: (encoder) => zstdCompress(encoder.buffer),
  decompress: (buffer) => zstdDecompress(buffer, { chunkSize: ZSTD_CHUNK_BYTES }),
};

// kafkajs is CommonJS and sets CompressionCodecs in a way Node's named-export detection misses.
const { CompressionCodecs, CompressionTypes } = kafkajs;

let registered = false;

/** Makes every kafkajs client of this process decode (and encode) snappy, lz4 and zstd. Idempotent. */
export function registerCompressionCodecs(): void {
  if (registered) return;
  registered = true;
  CompressionCodecs[CompressionTypes.Snappy] = () => snappyCodec;
  CompressionCodecs[CompressionTypes.LZ4] = () => lz4Codec;
  CompressionCodecs[CompressionTypes.ZSTD] = () => zstdCodec;
}
