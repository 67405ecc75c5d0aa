import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { frameHeader, frameSchemaId, messageIndexBytes, readMessageIndexes } from "../../../../src/pipeline/schemas/wire-format.ts";

describe("wire format", () => {
  test("a frame is the magic byte 0 and a positive big-endian id, with at least 5 bytes", () => {
    assert.equal(frameSchemaId(Buffer.from([0, 0, 0, 1, 2, 9])), 258);
    assert.equal(frameSchemaId(frameHeader(2_000_000_000)), 2_000_000_000);
    assert.equal(frameSchemaId(Buffer.from([0, 0, 0, 1])), -1, "too short");
    assert.equal(frameSchemaId(Buffer.from([1, 0, 0, 0, 1])), -1, "another magic byte");
    assert.equal(frameSchemaId(Buffer.from('{"a":1}')), -1, "JSON never starts with a zero byte");
    assert.equal(frameSchemaId(Buffer.from([0, 0, 0, 0, 0])), -1, "id 0 is no registry id");
    assert.equal(frameSchemaId(Buffer.from([0, 0xff, 0xff, 0xff, 0xff])), -1, "negative id");
    assert.equal(frameSchemaId(null), -1);
  });

  test("the message-index array: [0] as one zero byte, longer paths as zigzag varints", () => {
    const framed = (indexes: number[]): Buffer => Buffer.concat([frameHeader(7), messageIndexBytes(indexes), Buffer.from([0xaa])]);
    assert.deepEqual(messageIndexBytes([0]), Buffer.from([0]));
    // count 2 -> zigzag 4, indexes 1 -> 2 and 300 -> 600 = 0xd8 0x04
    assert.deepEqual(messageIndexBytes([1, 300]), Buffer.from([4, 2, 0xd8, 0x04]));
    for (const indexes of [[0], [1], [0, 0], [3, 1, 2], [200, 70000]]) {
      const bytes = framed(indexes);
      const read = readMessageIndexes(bytes);
      assert.deepEqual(read.indexes, indexes);
      assert.equal(bytes[read.payloadOffset], 0xaa, `payload right after the indexes of ${JSON.stringify(indexes)}`);
    }
  });

  test("a corrupt message-index array is an error, never a read past the end", () => {
    assert.throws(() => readMessageIndexes(Buffer.concat([frameHeader(7), Buffer.from([4, 2])])), /truncated/);
    assert.throws(() => readMessageIndexes(Buffer.concat([frameHeader(7), Buffer.from([3])])), /out of range/, "a negative count");
    assert.throws(() => readMessageIndexes(Buffer.concat([frameHeader(7), Buffer.from([2, 1])])), /negative message index/);
    assert.throws(() => readMessageIndexes(Buffer.concat([frameHeader(7), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x01])])), /longer than 5 bytes/);
  });
});
