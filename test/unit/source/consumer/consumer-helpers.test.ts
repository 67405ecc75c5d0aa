import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { KafkaMessage } from "kafkajs";
import { topicPattern } from "../../../../src/app.ts";
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
    headers: { trace: Buffer.from("t1"), multi: [Buffer.from("x"), "y"] },
  };

  test("key and value are the fetch response's own bytes, not copies (one allocation per fetch, not per record)", () => {
    const { key, value } = toKafkaRecord("t", 3, message);
    assert.ok(key && value);
    assert.equal(value.toString(), "VALUE");
    assert.equal(key.toString(), "KEY");
    assert.equal(value.buffer, response.buffer);
    assert.equal(key.buffer, response.buffer);
  });

  test("keeps coordinates, timestamp and the headers as kafkajs decoded them (repeated names as arrays)", () => {
    const record = toKafkaRecord("t", 3, message);
    assert.equal(record.topic, "t");
    assert.equal(record.partition, 3);
    assert.equal(record.offset, "42");
    assert.equal(record.timestamp, 1700000000123);
    assert.equal(record.headers, message.headers, "no copy");
    assert.deepEqual(record.headers.multi, [Buffer.from("x"), "y"]);
  });

  test("its size counts key, value and headers on top of a fixed overhead", () => {
    const record = toKafkaRecord("t", 3, message);
    const headerBytes = "trace".length + 2 + "multi".length + 2;
    assert.equal(record.size, RECORD_OVERHEAD_BYTES + 3 + 5 + headerBytes);
  });

  test("a null header value (Java, librdkafka, kcat -H name) is kept as null", () => {
    const headers = { gone: null, tags: [Buffer.from("a"), null] } as unknown as KafkaMessage["headers"] & object;
    const record = toKafkaRecord("t", 0, { ...message, headers });
    assert.deepEqual(record.headers, { gone: null, tags: [Buffer.from("a"), null] });
    assert.equal(record.size, RECORD_OVERHEAD_BYTES + 3 + 5 + "gone".length + "tags".length + 1);
  });

  test("values kafkajs never decodes are normalized, not thrown on: undefined dropped, others as bytes or text", () => {
    const headers = { none: undefined, n: 7, u8: new Uint8Array([1, 2]), list: [undefined, "x"] } as unknown as KafkaMessage["headers"] & object;
    const record = toKafkaRecord("t", 0, { ...message, headers });
    assert.deepEqual(record.headers, { n: "7", u8: Buffer.from([1, 2]), list: [null, "x"] });
    const empty = toKafkaRecord("t", 0, { ...message, headers: { none: undefined } });
    assert.deepEqual(empty.headers, {});
  });

  test("a timestamp that is not a number becomes -1 (no timestamp); -1, 0 and far-future ones are kept", () => {
    for (const [given, expected] of [["-1", -1], ["0", 0], ["253402300800000", 253402300800000], ["", 0], ["x", -1]] as const) {
      assert.equal(toKafkaRecord("t", 0, { ...message, timestamp: given }).timestamp, expected, given);
    }
    const missing = { ...message, timestamp: undefined } as unknown as KafkaMessage;
    assert.equal(toKafkaRecord("t", 0, missing).timestamp, -1);
  });

  test("a tombstone has a null value", () => {
    const record = toKafkaRecord("t", 0, { ...message, key: null, value: null, headers: {} });
    assert.equal(record.value, null);
    assert.equal(record.key, null);
    assert.equal(record.size, RECORD_OVERHEAD_BYTES);
  });
});
