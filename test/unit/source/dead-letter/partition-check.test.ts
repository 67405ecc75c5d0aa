import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Message, PartitionMetadata, RecordMetadata } from "kafkajs";
import { stickyPartitioner, unwrittenMessages, type PartitionChoices } from "../../../../src/source/dead-letter/partition-check.ts";

const metadata = (count: number): PartitionMetadata[] =>
  Array.from({ length: count }, (_, partitionId) => ({ partitionId, leader: partitionId % 3, replicas: [0, 1, 2], isr: [0, 1, 2], offlineReplicas: [], partitionErrorCode: 0 }));
const answer = (...partitions: number[]): RecordMetadata[] => partitions.map((partition) => ({ topicName: "dlq", partition, errorCode: 0 }));

describe("dead-letter sends checked partition by partition (kafkajs 2.2.4 skips a moved partition on a retry)", () => {
  test("a keyless message keeps the partition of its first try", () => {
    const choices: PartitionChoices = new WeakMap();
    const partitioner = stickyPartitioner(choices)();
    const messages: Message[] = Array.from({ length: 12 }, () => ({ key: null, value: "v" }));
    const first = messages.map((message) => partitioner({ topic: "dlq", partitionMetadata: metadata(6), message }));
    const again = messages.map((message) => partitioner({ topic: "dlq", partitionMetadata: metadata(6), message }));
    assert.deepEqual(again, first);
    assert.ok(new Set(first).size > 1, "keyless messages still spread over partitions");
  });

  test("keyed messages go where kafkajs' default partitioner puts them; a vanished partition is chosen anew", () => {
    const choices: PartitionChoices = new WeakMap();
    const message: Message = { key: "order-42", value: "v" };
    const p = stickyPartitioner(choices)()({ topic: "dlq", partitionMetadata: metadata(6), message });
    assert.equal(choices.get(message), p);
    const fewer = stickyPartitioner(choices)()({ topic: "dlq", partitionMetadata: metadata(1), message });
    assert.equal(fewer, 0);
  });

  test("messages whose partition is missing from the answer were not written", () => {
    const choices: PartitionChoices = new WeakMap();
    const [a, b, c, unplaced] = [{ value: "a" }, { value: "b" }, { value: "c" }, { value: "d" }] as Message[];
    assert.ok(a && b && c && unplaced);
    choices.set(a, 0);
    choices.set(b, 1);
    choices.set(c, 2);
    assert.deepEqual(unwrittenMessages([a, b, c, unplaced], choices, "dlq", answer(0, 2)), [b, unplaced]);
    assert.deepEqual(unwrittenMessages([a, c], choices, "dlq", answer(0, 2)), []);
    assert.deepEqual(unwrittenMessages([a], choices, "dlq", [{ topicName: "other", partition: 0, errorCode: 0 }]), [a]);
  });
});
