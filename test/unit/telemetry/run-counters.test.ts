import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { RunCounters } from "../../../src/telemetry/run-counters.ts";

describe("RunCounters", () => {
  test("counts indexed per index, rejected per error type, skipped and retried; ignores the rest", () => {
    const counters = new RunCounters();
    const o = counters.observer;
    o.documentsIndexed(3, new Map([["a", 2], ["b", 1]]));
    o.documentsIndexed(2, new Map([["a", 2]]));
    const event = { topic: "t", partition: 0, offset: "1", index: "a", errorType: "document_parsing_exception", reason: "r", excerpt: "" };
    o.documentRejected(event);
    o.documentRejected(event);
    o.documentsRetried(4, "throttled");
    o.inFlight(3);
    assert.equal(counters.indexed, 5);
    assert.deepEqual([...counters.byIndex], [["a", 4], ["b", 1]]);
    assert.equal(counters.rejected, 2);
    assert.deepEqual([...counters.rejectedByType], [["document_parsing_exception", 2]]);
    assert.equal(counters.retried, 4);
    assert.equal(counters.skipped, 0);
  });
});
