import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { heapBudget, heapBudgetWarning } from "../../../src/telemetry/heap-budget.ts";

const MIB = 2 ** 20;

describe("heap budget", () => {
  test("the shipped limit (64 MiB old space, 4 MiB semi-spaces: 76 MiB) fits the default queue of 10,000 records", () => {
    const budget = heapBudget(76 * MIB, 10_000);
    assert.equal(budget.fits, true);
    assert.equal(heapBudgetWarning(budget, 10_000), undefined);
  });

  test("a queue several times the default under the same limit gets one line naming the setting, the flag and both sizes", () => {
    const budget = heapBudget(76 * MIB, 50_000);
    assert.equal(budget.fits, false);
    const warning = heapBudgetWarning(budget, 50_000) ?? "";
    assert.match(warning, /heap limit \(76 MiB\)/);
    assert.match(warning, /queue\.maxRecords=50000 may need \(about 138 MiB\)/);
    assert.match(warning, /--max-old-space-size/);
    assert.match(warning, /QUEUE_MAX_RECORDS/);
    assert.doesNotMatch(warning, /\n/);
  });

  test("V8's default limit (about 2 GiB here) fits any sensible queue", () => {
    assert.equal(heapBudget(2_096 * MIB, 500_000).fits, true);
  });
});
