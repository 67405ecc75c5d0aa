import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  DEAD_LETTER_HEADERS,
  deadLetterRecord,
  isRedriven,
  MAX_REASON_BYTES,
  redrivenRecord,
  sourceCoordinates,
  truncateUtf8,
} from "../../../src/sink/dead-letter.ts";
import type { Rejection } from "../../../src/sink/failure-policy.ts";
import type { KafkaRecord } from "../../../src/pipeline/record.ts";

const source: KafkaRecord = {
  topic: "orders",
  partition: 3,
  offset: "9007199254740993",
  timestamp: 1_700_000_000_123,
  key: Buffer.from("k1"),
  value: Buffer.from('{"n":"x"}'),
  headers: { trace: "abc", bin: Buffer.from([0xff, 0x00]) },
  size: 100,
};
const rejection: Rejection = {
  record: source,
  action: { op: "index", index: "orders-2025", id: "orders-3-9007199254740993", source: '{"n":"x"}' },
  status: 400,
  errorType: "document_parsing_exception",
  reason: "failed to parse field [n]",
};
const NOW = Date.UTC(2026, 10, 30, 8, 0, 0, 5);

describe("dead-letter record", () => {
  test("keeps key, value, headers and timestamp; adds exactly the specified headers", () => {
    const letter = deadLetterRecord(rejection, NOW);
    assert.equal(letter.key, source.key);
    assert.equal(letter.value, source.value);
    assert.equal(letter.timestamp, "1700000000123");
    assert.deepEqual(letter.headers, {
      trace: "abc",
      bin: Buffer.from([0xff, 0x00]),
      "source.topic": "orders",
      "source.partition": "3",
      "source.offset": "9007199254740993",
      "error.status": "400",
      "error.type": "document_parsing_exception",
      "error.reason": "failed to parse field [n]",
      "error.index": "orders-2025",
      "error.time": "2026-11-30T08:00:00.005Z",
      "error.attempt": "1",
    });
  });

  test("a record that failed before Elasticsearch: status 0, no index", () => {
    const letter = deadLetterRecord({ ...rejection, action: undefined, status: undefined, errorType: "decode_error" }, NOW);
    assert.equal(letter.headers[DEAD_LETTER_HEADERS.status], "0");
    assert.equal(letter.headers[DEAD_LETTER_HEADERS.index], "");
    assert.equal(letter.headers[DEAD_LETTER_HEADERS.type], "decode_error");
  });

  test("the reason is bounded in UTF-8 bytes without splitting a character", () => {
    const reason = "é".repeat(2000);
    const letter = deadLetterRecord({ ...rejection, reason }, NOW);
    const cut = String(letter.headers[DEAD_LETTER_HEADERS.reason]);
    assert.ok(Buffer.byteLength(cut) <= MAX_REASON_BYTES);
    assert.ok(cut.endsWith("…"));
    assert.ok(!cut.includes("\uFFFD"));
    assert.equal(truncateUtf8("short", 10), "short");
  });

  test("a redriven record that fails again keeps its first home and counts the attempt", () => {
    const first = deadLetterRecord(rejection, NOW);
    const inDlq: KafkaRecord = { ...source, topic: "dlq", partition: 0, offset: "7", headers: first.headers };
    const redriven = redrivenRecord(inDlq);
    assert.ok(redriven !== undefined && isRedriven(redriven));
    assert.equal(redriven.topic, "orders");
    assert.equal(redriven.partition, 3);
    assert.equal(redriven.offset, "9007199254740993");
    assert.equal(redriven.deadLetterAttempt, 1);
    assert.deepEqual(redriven.headers, { trace: "abc", bin: Buffer.from([0xff, 0x00]) }, "only the original headers");
    const second = deadLetterRecord({ ...rejection, record: redriven }, NOW + 1);
    assert.equal(second.headers[DEAD_LETTER_HEADERS.attempt], "2");
    assert.equal(second.headers[DEAD_LETTER_HEADERS.sourceTopic], "orders");
    assert.equal(second.headers[DEAD_LETTER_HEADERS.sourceOffset], "9007199254740993");
    assert.ok(!isRedriven(source));
  });

  test("records without usable source.* headers are not redriven", () => {
    assert.equal(redrivenRecord(source), undefined);
    assert.deepEqual(sourceCoordinates({ "source.topic": "t", "source.partition": "x", "source.offset": "1" }), {
      ok: false,
      problem: 'source.partition header is not a partition number: "x"',
    });
    assert.equal(sourceCoordinates({ "source.topic": "t", "source.partition": "1", "source.offset": "-1" }).ok, false);
    assert.deepEqual(sourceCoordinates({ "source.topic": "t", "source.partition": "1", "source.offset": "5" }), {
      ok: true, topic: "t", partition: 1, offset: "5", attempt: 1,
    });
  });
});
