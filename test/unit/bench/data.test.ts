import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { documentSource, jsonRecord, textRecord } from "../../bench/data.ts";

describe("bench records", () => {
  test("json records are single-line JSON objects of about the asked size, with @timestamp", () => {
    for (const i of [0, 1, 12_345, 999_999]) {
      const line = jsonRecord(i, 1024);
      assert.ok(!line.includes("\n"));
      assert.ok(line.length > 960 && line.length <= 1024, `length ${String(line.length)}`);
      const parsed = JSON.parse(line) as Record<string, unknown>;
      assert.equal(typeof parsed["@timestamp"], "string");
    }
  });
  test("text records are single lines of about the asked size", () => {
    const line = textRecord(7, 1024);
    assert.ok(!line.includes("\n"));
    assert.ok(line.length > 960 && line.length <= 1024);
  });
  test("deterministic: record i is the same every time, and differs from record i+1", () => {
    assert.equal(jsonRecord(42, 1024), jsonRecord(42, 1024));
    assert.notEqual(jsonRecord(42, 1024), jsonRecord(43, 1024));
  });
  test("the ceiling's documents are what the worker sends: json verbatim, text wrapped with @timestamp", () => {
    assert.equal(documentSource("json", 3, 1024, 0), jsonRecord(3, 1024));
    const wrapped = JSON.parse(documentSource("text", 3, 1024, Date.UTC(2025, 0, 1))) as Record<string, unknown>;
    assert.deepEqual(Object.keys(wrapped), ["@timestamp", "message"]);
    assert.equal(wrapped.message, textRecord(3, 1024));
    assert.equal(wrapped["@timestamp"], "2025-01-01T00:00:00.000Z");
  });
});
