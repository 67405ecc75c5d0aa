import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseTime, parseTimeRange } from "../../../src/replay/time.ts";

const NOW = Date.UTC(2026, 10, 30, 8, 0, 0);

/** The one-line reason of a refusal (fails when the input was accepted). */
function reason(result: unknown): string {
  assert.equal(typeof result, "string", `expected a refusal, got ${JSON.stringify(result)}`);
  return result as string;
}

describe("parseTime", () => {
  test("ISO 8601 with a zone, a date alone (midnight UTC), epoch milliseconds, now", () => {
    assert.equal(parseTime("2026-11-30T06:00:00Z", NOW), Date.UTC(2026, 10, 30, 6));
    assert.equal(parseTime("2026-11-30T06:00:00.250Z", NOW), Date.UTC(2026, 10, 30, 6, 0, 0, 250));
    assert.equal(parseTime("2026-11-30T08:00+02:00", NOW), Date.UTC(2026, 10, 30, 6));
    assert.equal(parseTime("2026-11-30", NOW), Date.UTC(2026, 10, 30));
    assert.equal(parseTime("1767225600000", NOW), 1767225600000);
    assert.equal(parseTime("now", NOW), NOW);
  });

  test("relative to now in ms, s, m, h, d, w; fractions allowed", () => {
    assert.equal(parseTime("-2h", NOW), NOW - 7_200_000);
    assert.equal(parseTime("-90m", NOW), NOW - 5_400_000);
    assert.equal(parseTime("-1.5d", NOW), NOW - 129_600_000);
    assert.equal(parseTime("+30s", NOW), NOW + 30_000);
    assert.equal(parseTime("-1w", NOW), NOW - 604_800_000);
    assert.equal(parseTime("-500ms", NOW), NOW - 500);
  });

  test("refuses a date-time without a zone instead of guessing the machine's", () => {
    assert.match(reason(parseTime("2026-11-30T06:00:00", NOW)), /needs a zone/);
  });

  test("refuses what is not a time, saying what is expected", () => {
    for (const bad of ["yesterday", "-2x", "2h", "", "2026-13-45", "2026-02-30T00:00:00Z"]) {
      const result = parseTime(bad, NOW);
      assert.equal(typeof result, "string", bad);
    }
  });
});

describe("parseTimeRange", () => {
  test("[from, to) with from before to", () => {
    assert.deepEqual(parseTimeRange("-2h", "-1h", NOW), { from: NOW - 7_200_000, to: NOW - 3_600_000 });
  });

  test("names the offending argument", () => {
    assert.match(reason(parseTimeRange("soon", "now", NOW)), /^--from "soon": /);
    assert.match(reason(parseTimeRange("-1h", "later", NOW)), /^--to "later": /);
    assert.match(reason(parseTimeRange("-1h", "-2h", NOW)), /must be after --from/);
    assert.match(reason(parseTimeRange("now", "now", NOW)), /must be after --from/);
  });
});
