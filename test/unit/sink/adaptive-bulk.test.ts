import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { errors } from "@elastic/elasticsearch";
import { errorSignal, responseSignal, withAdaptiveConcurrency } from "../../../src/sink/adaptive-bulk.ts";
import { AdaptiveConcurrency } from "../../../src/sink/adaptive-concurrency.ts";
import { toSinkError, type BulkFunction } from "../../../src/sink/bulk-client.ts";
import { response } from "./fixtures.ts";

function refused(statusCode: number): Error {
  const meta = { body: { error: "no" }, statusCode, headers: {}, warnings: null, meta: {} } as unknown as ConstructorParameters<typeof errors.ResponseError>[0];
  return toSinkError(new errors.ResponseError(meta));
}

describe("adaptive bulk: what a request says about load", () => {
  test("a response with any 429 or 503 item is back-pressure; other item errors are not", () => {
    assert.equal(responseSignal(response([{ status: 201 }, { status: 200 }])), "ok");
    assert.equal(responseSignal(response([{ status: 201 }, { status: 429, type: "es_rejected_execution_exception" }])), "backpressure");
    assert.equal(responseSignal(response([{ status: 503, type: "es_rejected_execution_exception" }])), "backpressure");
    // Operator errors are holds, not load: a cluster block answered 429, a red index, a closed index.
    assert.equal(responseSignal(response([{ status: 201 }, { status: 429, type: "cluster_block_exception" }])), "error");
    assert.equal(responseSignal(response([{ status: 503, type: "unavailable_shards_exception" }])), "error");
    assert.equal(responseSignal(response([{ status: 201 }, { status: 400, type: "index_closed_exception" }])), "error", "a refusal in a millisecond is not learned as the baseline");
    assert.equal(responseSignal(response([{ status: 201 }, { status: 409, type: "version_conflict_engine_exception" }])), "ok");
    assert.equal(responseSignal(response([{ status: 400, type: "mapper_parsing_exception" }])), "ok");
  });

  test("a request-level 429, 503 or a timeout is back-pressure; a refused connection or a 400 is not", () => {
    assert.equal(errorSignal(refused(429)), "backpressure");
    assert.equal(errorSignal(refused(503)), "backpressure");
    assert.equal(errorSignal(toSinkError(new errors.TimeoutError("Request timed out"))), "backpressure");
    assert.equal(errorSignal(toSinkError(new errors.ConnectionError("connect ECONNREFUSED"))), "error");
    assert.equal(errorSignal(refused(400)), "error");
  });
});

describe("withAdaptiveConcurrency", () => {
  test("times every request, first tries and retries alike, and reports the new limit", async () => {
    const controller = new AdaptiveConcurrency({ max: 4 });
    const limits: number[] = [];
    let clock = 0;
    const bulk: BulkFunction = () => {
      clock += 100;
      return Promise.resolve(response([{ status: 201 }]));
    };
    const wrapped = withAdaptiveConcurrency(bulk, controller, { onLimit: (l) => limits.push(l), now: () => clock });
    const signal = new AbortController().signal;
    for (let i = 0; i < 3; i++) await wrapped(Buffer.alloc(1024), signal);
    // Sequential requests: one step to 2, then the limit is not used, so it stays.
    assert.deepEqual(limits, [2, 2, 2]);
  });

  test("a 429 answer lowers the limit and the response still reaches the caller; errors still throw", async () => {
    const controller = new AdaptiveConcurrency({ max: 8, initial: 8 });
    const limits: number[] = [];
    let clock = 0;
    let fail = false;
    const bulk: BulkFunction = () => {
      clock += 10;
      if (fail) return Promise.reject(refused(429));
      return Promise.resolve(response([{ status: 429, type: "es_rejected_execution_exception" }]));
    };
    const wrapped = withAdaptiveConcurrency(bulk, controller, { onLimit: (l) => limits.push(l), now: () => clock });
    const signal = new AbortController().signal;
    const body = await wrapped("{}\n", signal);
    assert.equal(body.items.length, 1);
    fail = true;
    await assert.rejects(wrapped("{}\n", signal), /429/);
    assert.deepEqual(limits, [4, 2]);
  });

  test("an aborted request (shutdown) tells the controller nothing", async () => {
    const controller = new AdaptiveConcurrency({ max: 8, initial: 8 });
    const abort = new AbortController();
    const bulk: BulkFunction = () => {
      abort.abort();
      return Promise.reject(refused(503));
    };
    let called = false;
    const wrapped = withAdaptiveConcurrency(bulk, controller, { onLimit: () => { called = true; } });
    await assert.rejects(wrapped("{}\n", abort.signal));
    assert.equal(called, false);
    assert.equal(controller.limit, 8);
  });
});
