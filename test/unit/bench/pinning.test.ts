import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { describePinning, formatCoreList, parseCoreList, planPinning } from "../../bench/pinning.ts";

describe("bench pinning plan (BENCH_PIN=1)", () => {
  test("two cores: Elasticsearch on 0, everything else on 1", () => {
    assert.deepEqual(planPinning(2), { esCores: "0", restCores: "1", allCores: "0-1", esCoreCount: 1 });
  });
  test("more cores: the named ones for Elasticsearch, the rest as ranges", () => {
    assert.deepEqual(planPinning(8, "0-1,4"), { esCores: "0-1,4", restCores: "2-3,5-7", allCores: "0-7", esCoreCount: 3 });
  });
  test("refuses what cannot be pinned, naming the value", () => {
    assert.throws(() => planPinning(1), /at least 2 cores \(this machine has 1\)/);
    assert.throws(() => planPinning(2, "0-1"), /"0-1" leaves no core/);
    assert.throws(() => planPinning(2, "3"), /core 3 does not exist \(cores 0-1\)/);
    assert.throws(() => planPinning(4, "a"), /BENCH_PIN_ES_CORES: "a" is not a core list/);
    assert.throws(() => planPinning(4, "3-1"), /"3-1" ends before it starts/);
  });
  test("core lists round-trip", () => {
    assert.deepEqual(parseCoreList("5,0-2,2", "x"), [0, 1, 2, 5]);
    assert.equal(formatCoreList([0, 1, 2, 5, 7, 8]), "0-2,5,7-8");
    assert.equal(formatCoreList([3]), "3");
  });
  test("the report states the layout either way", () => {
    assert.match(describePinning(undefined), /^not pinned/);
    assert.match(describePinning(planPinning(2)), /Elasticsearch alone on core\(s\) 0; the worker, Kafka, the registry and the bench on 1/);
  });
});
