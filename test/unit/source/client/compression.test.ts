import assert from "node:assert/strict";
import { describe, test } from "node:test";
import zlib from "node:zlib";
import { compressFrameSync } from "lz4-napi";
import { compressSync } from "snappy";
import { isXerialFramed, lz4Codec, snappyCodec, xerialChunks, zstdCodec } from "../../../../src/source/client/compression.ts";

const text = Buffer.from(JSON.stringify({ message: "compressible ".repeat(500) }));

/** The framing the Java client writes: magic, version 1, compatible 1, then length-prefixed raw blocks. */
function xerial(blocks: Buffer[]): Buffer {
  const header = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]);
  const parts: Buffer[] = [header];
  for (const block of blocks) {
    const size = Buffer.alloc(4);
    size.writeUInt32BE(block.length);
    parts.push(size, block);
  }
  return Buffer.concat(parts);
}

describe("compression codecs", () => {
  test("snappy: raw blocks (librdkafka) decode", async () => {
    const raw = compressSync(text);
    assert.equal(isXerialFramed(raw), false);
    assert.deepEqual(await snappyCodec.decompress(raw), text);
  });

  test("snappy: xerial-framed chunks (Java client) decode and concatenate", async () => {
    const halves = [text.subarray(0, 1000), text.subarray(1000)];
    const framed = xerial(halves.map((h) => compressSync(h)));
    assert.equal(isXerialFramed(framed), true);
    assert.equal(xerialChunks(framed).length, 2);
    assert.deepEqual(await snappyCodec.decompress(framed), text);
  });

  test("snappy: a truncated xerial frame is an error, not garbage", async () => {
    const framed = xerial([compressSync(text)]);
    await assert.rejects(snappyCodec.decompress(framed.subarray(0, framed.length - 5)), /exceeds/);
  });

  test("lz4 frames and zstd decode; every codec round-trips its own output", async () => {
    assert.deepEqual(await lz4Codec.decompress(compressFrameSync(text)), text);
    assert.deepEqual(await zstdCodec.decompress(zlib.zstdCompressSync(text)), text);
    for (const codec of [snappyCodec, lz4Codec, zstdCodec]) {
      assert.deepEqual(await codec.decompress(await codec.compress({ buffer: text })), text);
    }
  });
});
