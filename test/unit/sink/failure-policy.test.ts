import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { RecordRejectedError } from "../../../src/errors.ts";
import { createFailurePolicy, rejectionEvent } from "../../../src/sink/failure-policy.ts";
import { parsingRejection as rejection, record, recorder } from "./fixtures.ts";

const signal = new AbortController().signal;

describe("failure policy", () => {
  test("skip: reports, logs a warning with an excerpt, then acks", async () => {
    const { observer, logger, recorded } = recorder();
    const policy = createFailurePolicy("skip", { observer, logger });
    assert.equal(policy.name, "skip");
    assert.deepEqual(await policy.handle(rejection, signal), { kind: "ack" });
    assert.equal(recorded.count("documentRejected"), 1);
    assert.deepEqual(recorded.calls.find((c) => c.method === "documentRejected")?.args[0], {
      topic: "orders",
      partition: 0,
      offset: "42",
      index: "orders",
      errorType: "document_parsing_exception",
      reason: "failed to parse field [n]",
      excerpt: '{"n":"not a number"}',
    });
    const warning = recorded.calls.find((c) => c.method === "log.warn");
    assert.ok(warning);
    assert.match(String(warning.args[1]), /skipped/);
    assert.equal((warning.args[0] as { offset: string }).offset, "42");
  });

  test("stop: reports, logs an error, returns a non-retriable RecordRejectedError naming the record", async () => {
    const { observer, logger, recorded } = recorder();
    const verdict = await createFailurePolicy("stop", { observer, logger }).handle(rejection, signal);
    assert.ok(verdict.kind === "stop");
    assert.ok(verdict.error instanceof RecordRejectedError);
    assert.equal(verdict.error.retriable, false);
    assert.match(verdict.error.message, /orders\[0\]@42.*document_parsing_exception/);
    assert.equal(recorded.count("documentRejected"), 1);
    assert.equal(recorded.count("log.error"), 1);
  });

  test("works without observer or logger", async () => {
    assert.deepEqual(await createFailurePolicy("skip").handle(rejection, signal), { kind: "ack" });
  });

  test("excerpts are bounded and show undecodable records too", () => {
    const big = { ...rejection, record: record(1, "x".repeat(1000)) };
    const event = rejectionEvent(big, 16);
    assert.ok(event.excerpt.startsWith("x".repeat(16)));
    assert.ok(event.excerpt.length < 40);
    const undecodable = rejectionEvent({ ...rejection, action: undefined, errorType: "decode_error" }, 256);
    assert.equal(undecodable.index, undefined);
    assert.equal(undecodable.excerpt, '{"n":"not a number"}');
  });
});
