import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { loadSettings, parseVariants } from "../../bench/settings.ts";

describe("loadSettings", () => {
  test("defaults", () => {
    const s = loadSettings({ HOME: "/home/u" });
    assert.equal(s.records, 1_000_000);
    assert.deepEqual(s.variants, ["json", "text", "avro"]);
    assert.equal(s.naiveRecords, 20_000);
    assert.equal(s.latencySeconds, 60);
    assert.equal(s.partitions, 6);
    assert.equal(s.profile, false);
    assert.match(s.outputRoot, /kafka-es-transfer\/bench$/);
  });
  test("reads the variables; underscores and commas in numbers are fine", () => {
    const s = loadSettings({ BENCH_RECORDS: "50_000", BENCH_VARIANTS: "text", BENCH_NAIVE_RECORDS: "1,000", BENCH_LATENCY_SECONDS: "0", KES_BENCH_DIR: "/tmp/b", BENCH_PROFILE: "1" });
    assert.equal(s.records, 50_000);
    assert.deepEqual(s.variants, ["text"]);
    assert.equal(s.naiveRecords, 1_000);
    assert.equal(s.latencySeconds, 0);
    assert.equal(s.outputRoot, "/tmp/b");
    assert.equal(s.profile, true);
  });
  test("the naive baseline never reads more than the backlog", () => {
    assert.equal(loadSettings({ BENCH_RECORDS: "5000" }).naiveRecords, 5000);
  });
  test("refuses nonsense", () => {
    assert.throws(() => loadSettings({ BENCH_RECORDS: "many" }), /BENCH_RECORDS/);
    assert.throws(() => loadSettings({ BENCH_RECORDS: "0" }), /BENCH_RECORDS/);
    assert.throws(() => loadSettings({ BENCH_PRODUCER: "rdkafka" }), /BENCH_PRODUCER/);
  });
});

describe("parseVariants", () => {
  test("deduplicates and keeps order", () => {
    assert.deepEqual(parseVariants("text, json,text"), ["text", "json"]);
  });
  test("refuses an unknown variant", () => {
    assert.throws(() => parseVariants("json,xml"), /xml/);
  });
});
