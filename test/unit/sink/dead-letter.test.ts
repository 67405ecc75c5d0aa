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
import type { HeaderValue, KafkaRecord } from "../../../src/pipeline/record.ts";

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
  test("keeps key, value and headers; stamped with the time it was written; adds exactly the specified headers", () => {
    const letter = deadLetterRecord(rejection, NOW);
    assert.equal(letter.key, source.key);
    assert.equal(letter.value, source.value);
    assert.equal(letter.timestamp, String(NOW), "written now: retention counts from the dead letter, not the source record");
    assert.deepEqual(letter.headers, {
      trace: "abc",
      bin: Buffer.from([0xff, 0x00]),
      "source.topic": "orders",
      "source.partition": "3",
      "source.offset": "9007199254740993",
      "source.timestamp": "1700000000123",
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
    assert.equal(redriven.timestamp, 1_700_000_000_123, "dated by source.timestamp, not by the dead letter's own timestamp");
    assert.deepEqual(redriven.headers, { trace: "abc", bin: Buffer.from([0xff, 0x00]) }, "only the original headers");
    const second = deadLetterRecord({ ...rejection, record: redriven }, NOW + 1);
    assert.equal(second.headers[DEAD_LETTER_HEADERS.attempt], "2");
    assert.equal(second.headers[DEAD_LETTER_HEADERS.sourceTopic], "orders");
    assert.equal(second.headers[DEAD_LETTER_HEADERS.sourceOffset], "9007199254740993");
    assert.equal(second.headers[DEAD_LETTER_HEADERS.sourceTimestamp], "1700000000123", "the original date survives a second failure");
    assert.ok(!isRedriven(source));
  });

  /** The dead letter as redrive reads it back from the dead-letter topic. */
  const readBack = (letter: ReturnType<typeof deadLetterRecord>): KafkaRecord => ({
    ...source, topic: "dlq", partition: 0, offset: "7", timestamp: Number(letter.timestamp), headers: letter.headers,
  });

  test("a record without a timestamp keeps none: source.timestamp -1, redriven with -1", () => {
    for (const timestamp of [-1, Number.NaN]) {
      const letter = deadLetterRecord({ ...rejection, record: { ...source, timestamp } }, NOW);
      assert.equal(letter.headers[DEAD_LETTER_HEADERS.sourceTimestamp], "-1");
      assert.equal(redrivenRecord(readBack(letter))?.timestamp, -1);
    }
    const epoch = deadLetterRecord({ ...rejection, record: { ...source, timestamp: 0 } }, NOW);
    assert.equal(redrivenRecord(readBack(epoch))?.timestamp, 0);
  });

  test("a dead letter written before source.timestamp existed is dated by its own timestamp (it kept the source's)", () => {
    const letter = deadLetterRecord(rejection, NOW);
    const old = Object.fromEntries(Object.entries(letter.headers).filter(([name]) => name !== DEAD_LETTER_HEADERS.sourceTimestamp));
    assert.equal(redrivenRecord({ ...readBack(letter), timestamp: 1_600_000_000_000, headers: old })?.timestamp, 1_600_000_000_000);
    const garbled = { ...letter.headers, [DEAD_LETTER_HEADERS.sourceTimestamp]: "soon" };
    assert.equal(redrivenRecord({ ...readBack(letter), headers: garbled })?.timestamp, -1, "unreadable: no timestamp");
  });

  test("null header values are written empty, listed in source.null-headers, and restored by redrive", () => {
    const headers = Object.fromEntries<HeaderValue>([["gone", null], ["tags", [Buffer.from("a"), null, "b"]], ["__proto__", "p"], ["keep", ""]]);
    const record: KafkaRecord = { ...source, headers };
    const letter = deadLetterRecord({ ...rejection, record }, NOW);
    assert.equal(letter.headers.gone, "");
    assert.deepEqual(letter.headers.tags, [Buffer.from("a"), "", "b"]);
    assert.ok(Object.hasOwn(letter.headers, "__proto__"), "__proto__ stays a header");
    assert.equal(letter.headers[DEAD_LETTER_HEADERS.sourceNullHeaders], '{"gone":[0],"tags":[1]}');
    const redriven = redrivenRecord(readBack(letter));
    assert.ok(redriven !== undefined);
    assert.deepEqual(redriven.headers, headers, "the source record's headers exactly, the empty one still empty");
    assert.equal(deadLetterRecord(rejection, NOW).headers[DEAD_LETTER_HEADERS.sourceNullHeaders], undefined, "only when there are nulls");
  });

  test("reading the source.* headers never throws: null, repeated or garbled values", () => {
    const coordinates = { "source.topic": "t", "source.partition": ["9", "1"], "source.offset": "5" };
    assert.deepEqual(sourceCoordinates(coordinates), { ok: true, topic: "t", partition: 1, offset: "5", attempt: 1 }, "the last of repeated values");
    assert.equal(sourceCoordinates({ "source.topic": null, "source.partition": "1", "source.offset": "5" }).ok, false);
    const letter = deadLetterRecord(rejection, NOW);
    const bad = { ...letter.headers, [DEAD_LETTER_HEADERS.sourceNullHeaders]: "{not json" };
    assert.deepEqual(redrivenRecord({ ...readBack(letter), headers: bad })?.headers, { trace: "abc", bin: Buffer.from([0xff, 0x00]) });
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
