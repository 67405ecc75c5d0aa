/**
 * Our record batch decoder against kafkajs' own, on batches kafkajs' own encoder
 * writes: the consumer must not be able to tell which one decoded a fetch.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { decodeRecordBatch, type KafkajsDecoder } from "../../../../src/source/client/record-batch-decoder.ts";
import { seededRandom } from "../../../support/prng.ts";
import { batchDecoderDeps as deps, encodeRecordBatch, kafkajsBatchDecoder, kafkajsDecodeMessages, KafkajsDecoderClass as Decoder, type BatchRecord } from "../../../support/record-batches.ts";

interface Shape {
  readonly records: number;
  readonly firstOffset: bigint;
  readonly firstTimestamp: number;
  readonly compression?: number;
  readonly headers?: boolean;
  readonly bigDeltas?: boolean;
}

async function encodeBatch(shape: Shape, random: () => number): Promise<Buffer> {
  const records: BatchRecord[] = [];
  for (let i = 0; i < shape.records; i++) {
    const roll = random();
    const key = roll < 0.2 ? null : roll < 0.3 ? Buffer.alloc(0) : Buffer.from(`key-${String(i)}`);
    const value = roll > 0.9 ? null : Buffer.from(JSON.stringify({ i, text: "x".repeat(Math.floor(random() * 300)) }));
    const headers: BatchRecord["headers"] = shape.headers === true && random() < 0.5 ? { trace: Buffer.from(String(i)), repeated: [Buffer.from("a"), Buffer.from("b")] } : {};
    const timestampDelta = shape.bigDeltas === true && random() < 0.3 ? 2 ** 40 + i : Math.floor(random() * 5000) - 100;
    records.push({ key, value, headers, timestampDelta });
  }
  return encodeRecordBatch(records, { firstOffset: shape.firstOffset, firstTimestamp: shape.firstTimestamp, compression: shape.compression ?? 0 });
}

/** Decodes every batch in `bytes` with both decoders; returns both results and where each stopped. */
async function decodeBoth(bytes: Buffer): Promise<{ ours: unknown[]; theirs: unknown[] }> {
  const run = async (decode: (d: KafkajsDecoder) => Promise<unknown>): Promise<unknown[]> => {
    const decoder = new Decoder(bytes);
    const out: unknown[] = [];
    while (decoder.offset < bytes.length) {
      try {
        out.push(await decode(decoder));
      } catch (error) {
        out.push({ error: (error as Error).name, message: (error as Error).message });
        break;
      }
    }
    out.push({ endedAt: decoder.offset });
    return out;
  };
  return { ours: await run((d) => decodeRecordBatch(d, deps)), theirs: await run(kafkajsBatchDecoder) };
}

const SHAPES: readonly (Shape & { readonly name: string })[] = [
  { name: "plain records", records: 50, firstOffset: 0n, firstTimestamp: 1_733_212_345_678 },
  { name: "offsets past 2^32", records: 20, firstOffset: 5_000_000_000n, firstTimestamp: 1_733_212_345_678 },
  { name: "offsets past 2^53 (kafkajs decodes them)", records: 5, firstOffset: 2n ** 60n, firstTimestamp: 1_733_212_345_678 },
  { name: "no timestamp (-1)", records: 5, firstOffset: 3n, firstTimestamp: -1 },
  { name: "headers (kafkajs decodes those records)", records: 30, firstOffset: 10n, firstTimestamp: 1_733_212_345_678, headers: true },
  { name: "timestamp deltas past 2^32", records: 30, firstOffset: 10n, firstTimestamp: 1_733_212_345_678, bigDeltas: true },
  { name: "gzip", records: 40, firstOffset: 100n, firstTimestamp: 1_733_212_345_678, compression: 1 },
  { name: "empty", records: 0, firstOffset: 0n, firstTimestamp: 0 },
];

describe("record batch decoder", () => {
  for (const shape of SHAPES) {
    test(`${shape.name}: the same objects as kafkajs`, async () => {
      const batch = await encodeBatch(shape, seededRandom(42));
      const { ours, theirs } = await decodeBoth(batch);
      assert.deepStrictEqual(ours, theirs);
    });
  }

  test("several batches, the last cut short: the same records, then the same partial-batch error", async () => {
    const random = seededRandom(7);
    const batches = await Promise.all([
      encodeBatch({ records: 10, firstOffset: 0n, firstTimestamp: 1_000 }, random),
      encodeBatch({ records: 10, firstOffset: 10n, firstTimestamp: 2_000, headers: true }, random),
      encodeBatch({ records: 10, firstOffset: 20n, firstTimestamp: 3_000 }, random),
    ]);
    const whole = Buffer.concat(batches);
    const cut = whole.subarray(0, whole.length - 100);
    const { ours, theirs } = await decodeBoth(cut);
    assert.deepStrictEqual(ours, theirs);
    assert.equal((ours[2] as { error?: string }).error, "KafkaJSPartialMessageError");
  });

  test("log-append time and control batches: attributes read as kafkajs reads them", async () => {
    const batch = await encodeBatch({ records: 3, firstOffset: 4n, firstTimestamp: 1_000 }, seededRandom(3));
    for (const flags of [0x08, 0x20, 0x10, 0x38]) {
      const patched = Buffer.from(batch);
      patched.writeInt16BE(patched.readInt16BE(21) | flags, 21);
      const { ours, theirs } = await decodeBoth(patched);
      assert.deepStrictEqual(ours, theirs, `attributes flag ${String(flags)}`);
    }
  });

  test("randomized batches agree with kafkajs (seeded)", async () => {
    for (let seed = 1; seed <= 25; seed++) {
      const random = seededRandom(seed);
      const shape: Shape = {
        records: Math.floor(random() * 60),
        firstOffset: BigInt(Math.floor(random() * 2 ** 50)),
        firstTimestamp: Math.floor(random() * 2 ** 42),
        headers: random() < 0.3,
        bigDeltas: random() < 0.3,
        compression: random() < 0.3 ? 1 : 0,
      };
      const { ours, theirs } = await decodeBoth(await encodeBatch(shape, random));
      assert.deepStrictEqual(ours, theirs, `seed ${String(seed)}`);
    }
  });
});

describe("installed in kafkajs", () => {
  test("a Kafka client made through newKafkaClient fetches through our decoder", async () => {
    const { newKafkaClient } = await import("../../../../src/source/client/kafka-client.ts");
    const { useOurRecordBatchDecoder } = await import("../../../../src/source/client/kafkajs-record-batches.ts");
    newKafkaClient({ brokers: ["127.0.0.1:1"], clientId: "decoder-test" });
    assert.equal(useOurRecordBatchDecoder(), "ours");
    // What kafkajs' fetch response decoder loads when the first fetch arrives:
    const decodeMessages = kafkajsDecodeMessages();
    const batch = await encodeBatch({ records: 3, firstOffset: 9n, firstTimestamp: 5 }, seededRandom(1));
    const sized = Buffer.alloc(4 + batch.length);
    sized.writeInt32BE(batch.length);
    batch.copy(sized, 4);
    const records = await decodeMessages(new Decoder(sized));
    assert.deepEqual(records.map((r) => r.offset), ["9", "10", "11"]);
    assert.equal(Object.isFrozen(records[0]?.headers), true, "our decoder shares one frozen empty headers object");
  });
});
