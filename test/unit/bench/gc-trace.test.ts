import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseBuilds } from "../../bench/ab.ts";
import { parseGcTrace } from "../../support/gc-trace.ts";

// Lines as node 24 prints them with --trace-gc, among the worker's other output.
const TRACE = [
  "[13257:0x383ee000]       94 ms: Scavenge 4.8 (5.8) -> 4.6 (6.8) MB, pooled: 0 MB, 21.02 / 0.00 ms  (average mu = 1.000, current mu = 1.000) allocation failure; ",
  "not a trace line",
  "[13257:0x383ee000]      431 ms: Mark-Compact 40.9 (46.1) -> 39.0 (44.1) MB, pooled: 1 MB, 4.27 / 0.00 ms  (+ 17.9 ms in 72 steps since start of marking) finalize incremental marking via stack guard",
  "[13257:0x383ee000]      839 ms: Mark-Compact (reduce) 63.8 (67.0) -> 43.7 (65.5) MB, pooled: 0 MB, 74.10 / 0.00 ms  (+ 0.7 ms in 17 steps since start of marking)",
  "[13257:0x383ee000]      900 ms: Scavenge 50.2 (67.0) -> 46.1 (66.0) MB, pooled: 0 MB, 0.61 / 0.00 ms  (average mu = 1.000, current mu = 1.000) task; ",
];

describe("--trace-gc figures", () => {
  test("peak heap before a collection, live heap after a full one, pauses summed", () => {
    const gc = parseGcTrace(TRACE);
    assert.ok(gc !== undefined);
    assert.equal(gc.collections, 4);
    assert.equal(gc.peakHeapMiB, 63.8);
    assert.equal(gc.liveAfterFullGcMiB, 43.7);
    assert.ok(Math.abs(gc.pauseSeconds - 0.1) < 1e-9, String(gc.pauseSeconds));
  });

  test("no trace lines, no figures", () => {
    assert.equal(parseGcTrace(["{\"msg\":\"started\"}"]), undefined);
  });
});

describe("bench-ab builds", () => {
  test("NODE_FLAGS gives a build its own node flags; the other settings stay its environment", () => {
    const builds = parseBuilds("old64=current,old96=current;NODE_FLAGS=--max-semi-space-size=4 --max-old-space-size=96;BULK_WORKERS=3");
    assert.equal(builds[0]?.nodeFlags, undefined);
    assert.deepEqual(builds[1]?.nodeFlags, ["--max-semi-space-size=4", "--max-old-space-size=96"]);
    assert.deepEqual(builds[1].env, { BULK_WORKERS: "3" });
  });
});
