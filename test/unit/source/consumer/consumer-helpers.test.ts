import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { KafkaMessage } from "kafkajs";
import { topicPattern } from "../../../../src/app.ts";
import { fetchSizes } from "../../../../src/source/consumer/fetch-budget.ts";
import { RECORD_OVERHEAD_BYTES, toKafkaRecord } from "../../../../src/source/consumer/record-conversion.ts";
import { sameTopics, selectTopics } from "../../../../src/source/consumer/topic-selection.ts";

describe("topic selection", () => {
  const pattern = topicPattern("logs-.*");
  test("explicit topics plus whole-name pattern matches, sorted, without internal topics", () => {
    const chosen = selectTopics({ topics: ["audit"], pattern }, ["logs-a", "old-logs-a", "logs-b", "__consumer_offsets", "audit"]);
    assert.deepEqual(chosen, ["audit", "logs-a", "logs-b"]);
  });
  test("the pattern is anchored: a match inside a longer name does not count", () => {
    assert.deepEqual(selectTopics({ topics: [], pattern }, ["xlogs-a", "logs-"]), ["logs-"]);
  });
  test("no pattern: only the explicit list", () => {
    assert.deepEqual(selectTopics({ topics: ["b", "a"], pattern: topicPattern("") }, ["c"]), ["a", "b"]);
  });
  test("sameTopics compares sorted lists", () => {
    assert.equal(sameTopics(["a", "b"], ["a", "b"]), true);
    assert.equal(sameTopics(["a"], ["a", "b"]), false);
  });
});

describe("toKafkaRecord", () => {
  const response = Buffer.from("KEYVALUE-and-the-rest-of-a-large-fetch-response");
  const message: KafkaMessage = {
    key: response.subarray(0, 3),
    value: response.subarray(3, 8),
    timestamp: "1700000000123",
    attributes: 0,
    offset: "42",
    headers: { trace: Buffer.from("t1"), multi: [Buffer.from("x"), "y"], none: undefined },
  };

  test("key and value are the fetch response's own bytes, not copies (one allocation per fetch, not per record)", () => {
    const { key, value } = toKafkaRecord("t", 3, message);
    assert.ok(key && value);
    assert.equal(value.toString(), "VALUE");
    assert.equal(key.toString(), "KEY");
    assert.equal(value.buffer, response.buffer);
    assert.equal(key.buffer, response.buffer);
  });

  test("keeps coordinates and timestamp, and one value per header (the last of repeated ones)", () => {
    const record = toKafkaRecord("t", 3, message);
    assert.equal(record.topic, "t");
    assert.equal(record.partition, 3);
    assert.equal(record.offset, "42");
    assert.equal(record.timestamp, 1700000000123);
    assert.equal(record.headers.trace?.toString(), "t1");
    assert.equal(record.headers.multi, "y");
    assert.equal(record.headers.none, undefined);
  });

  test("its size counts key, value and headers on top of a fixed overhead", () => {
    const record = toKafkaRecord("t", 3, message);
    const headerBytes = "trace".length + 2 + "multi".length + 2 + "none".length;
    assert.equal(record.size, RECORD_OVERHEAD_BYTES + 3 + 5 + headerBytes);
  });

  test("a tombstone has a null value", () => {
    const record = toKafkaRecord("t", 0, { ...message, key: null, value: null, headers: {} });
    assert.equal(record.value, null);
    assert.equal(record.key, null);
    assert.equal(record.size, RECORD_OVERHEAD_BYTES);
  });
});

describe("fetchSizes", () => {
  const MiB = 2 ** 20;

  test("a fetch response is capped at a quarter of the queue's byte budget", () => {
    assert.deepEqual(fetchSizes({ maxBytes: 10 * MiB, maxBytesPerPartition: 1 * MiB }, 16 * MiB), { maxBytes: 4 * MiB, maxBytesPerPartition: 1 * MiB });
    assert.deepEqual(fetchSizes({ maxBytes: 10 * MiB, maxBytesPerPartition: 8 * MiB }, 16 * MiB), { maxBytes: 4 * MiB, maxBytesPerPartition: 4 * MiB });
  });

  test("smaller configured sizes are kept; a tiny budget still fetches 64 KiB", () => {
    assert.deepEqual(fetchSizes({ maxBytes: MiB, maxBytesPerPartition: 256 * 1024 }, 64 * MiB), { maxBytes: MiB, maxBytesPerPartition: 256 * 1024 });
    assert.deepEqual(fetchSizes({ maxBytes: MiB, maxBytesPerPartition: MiB }, 1024), { maxBytes: 64 * 1024, maxBytesPerPartition: 64 * 1024 });
  });
});
