/** A fetched batch through the intake with a stopAt (redrive): bounded, and the partition's end reported once reached (issue 17, item 5). */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { EachBatchPayload, KafkaMessage } from "kafkajs";
import { BoundedQueue } from "../../../../src/pipeline/bounded-queue.ts";
import { partitionKey, type QueuedRecord } from "../../../../src/pipeline/record.ts";
import { intakeBatch, type IntakeDeps } from "../../../../src/source/consumer/batch-intake.ts";
import { Checkpointer } from "../../../../src/source/offsets/checkpointer.ts";

const T = "dlq";

function payload(first: number, last: number): EachBatchPayload {
  const messages = Array.from({ length: last - first + 1 }, (_, i) => ({ offset: String(first + i), timestamp: "0", key: null, value: Buffer.from("x"), headers: {} }) as unknown as KafkaMessage);
  const batch = { topic: T, partition: 0, messages, fetchedOffset: String(first), firstOffset: () => String(first), lastOffset: () => String(last) };
  return { batch, isRunning: () => true, isStale: () => false, resolveOffset: () => undefined } as unknown as EachBatchPayload;
}

function deps(stopAt: bigint, ended: string[]): { deps: IntakeDeps; queue: BoundedQueue<QueuedRecord> } {
  const queue = new BoundedQueue<QueuedRecord>({ maxRecords: 1_000, maxBytes: 1 << 20, lowWatermarkRatio: 0.5 }, (item) => item.record.size);
  const checkpointer = new Checkpointer();
  checkpointer.assign([{ topic: T, partition: 0 }]);
  return {
    queue,
    deps: {
      queue, checkpointer, mayEnqueue: () => true, useChannel: () => undefined, consumed: () => undefined,
      stopAt: new Map([[partitionKey(T, 0), stopAt]]),
      reachedEnd: (topic, partition) => { ended.push(`${topic}/${String(partition)}`); },
    },
  };
}

describe("batch intake with stopAt", () => {
  test("a batch below the end is taken whole and the partition keeps fetching", () => {
    const ended: string[] = [];
    const { deps: d, queue } = deps(10n, ended);
    intakeBatch(payload(0, 4), d);
    assert.equal(queue.waiting, 5);
    assert.deepEqual(ended, []);
  });

  test("a batch that reaches the end is cut there and the partition is reported ended", () => {
    const ended: string[] = [];
    const { deps: d, queue } = deps(10n, ended);
    intakeBatch(payload(6, 14), d);
    assert.equal(queue.waiting, 4, "offsets 6-9");
    assert.deepEqual(ended, [`${T}/0`]);
  });

  test("a batch starting at or past the end is left alone and the partition is reported ended", () => {
    const ended: string[] = [];
    const { deps: d, queue } = deps(10n, ended);
    intakeBatch(payload(10, 12), d);
    assert.equal(queue.waiting, 0);
    assert.deepEqual(ended, [`${T}/0`]);
  });
});
