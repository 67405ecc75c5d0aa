import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { formatDuration, formatProgress, formatSummary, RunProgress } from "../../../src/telemetry/run-progress.ts";

describe("run progress", () => {
  test("done, left, rate and ETA from samples of what is left", () => {
    const progress = new RunProgress(1_000, 0, 30_000);
    const first = progress.update(0, 1_000);
    assert.equal(first.ratePerSec, undefined);
    assert.equal(first.etaMs, undefined);
    const later = progress.update(10_000, 600);
    assert.deepEqual(later, { total: 1_000, done: 400, left: 600, elapsedMs: 10_000, ratePerSec: 40, etaMs: 15_000 });
  });

  test("the rate follows the last window, not the average since start", () => {
    const progress = new RunProgress(10_000, 0, 10_000);
    progress.update(0, 10_000);
    progress.update(10_000, 9_900); // slow start: 10/s
    progress.update(20_000, 8_900); // then 100/s
    const now = progress.update(30_000, 7_900);
    assert.equal(now.ratePerSec, 100);
    assert.equal(now.etaMs, 79_000);
  });

  test("ETA 0 when nothing is left; left clamped to [0, total]; no rate when stalled", () => {
    const progress = new RunProgress(100, 0);
    progress.update(0, 100);
    assert.equal(progress.update(1_000, 100).etaMs, undefined);
    assert.deepEqual({ ...progress.update(2_000, -5) }, { total: 100, done: 100, left: 0, elapsedMs: 2_000, ratePerSec: 50, etaMs: 0 });
    assert.equal(progress.update(3_000, 500).left, 100);
  });

  test("formats", () => {
    assert.equal(formatDuration(0), "0s");
    assert.equal(formatDuration(65_000), "1m05s");
    assert.equal(formatDuration(3_725_000), "1h02m");
    assert.equal(
      formatProgress("replay", { total: 200, done: 50, left: 150, elapsedMs: 1, ratePerSec: 25.4, etaMs: 6_000 }),
      "replay: 25.0% (50/200), 150 left, 25/s, ETA 6s",
    );
    assert.equal(formatProgress("x", { total: 0, done: 0, left: 0, elapsedMs: 0, ratePerSec: undefined, etaMs: 0 }), "x: 100.0% (0/0), 0 left, rate -, ETA 0s");
    const text = formatSummary({
      title: "replay complete",
      elapsedMs: 5_000,
      figures: [["records read", 3], ["indexed", 3]],
      breakdown: { label: "per index", counts: new Map([["b", 1], ["a", 2]]) },
    });
    assert.equal(text, "replay complete\n  records read  3\n  indexed       3\n  elapsed       5s\n  per index:\n    a  2\n    b  1\n");
  });
});
