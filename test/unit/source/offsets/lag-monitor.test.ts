import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { computeLag } from "../../../../src/source/offsets/lag-monitor.ts";

describe("computeLag", () => {
  test("high watermark minus the committed offset", () => {
    assert.equal(computeLag(1000n, 0n, 400n), 600);
  });
  test("a group that never committed counts from where this member started, or from the log start when unknown", () => {
    assert.equal(computeLag(1000n, 100n, undefined), 900);
    // Never committed, started at the end (fromBeginning=false): only what came since counts.
    assert.equal(computeLag(1000n, 100n, undefined, 1000n), 0);
    assert.equal(computeLag(1000n, 100n, undefined, 600n), 400);
  });
  test("records deleted by retention before the group read them are not lag", () => {
    assert.equal(computeLag(1000n, 700n, 200n), 300);
  });
  test("never negative, even when the committed offset was read after a newer high watermark", () => {
    assert.equal(computeLag(500n, 0n, 510n), 0);
  });
  test("offsets beyond 2^53 stay exact", () => {
    assert.equal(computeLag(9007199254740995n, 0n, 9007199254740990n), 5);
  });
});
