import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { RecordRejectedError, SinkUnavailableError } from "../../../src/errors.ts";
import type { BulkFunction } from "../../../src/sink/bulk-client.ts";
import type { BulkResponseBody } from "../../../src/sink/bulk-response.ts";
import { createBulkSender, type BulkSenderDeps } from "../../../src/sink/bulk-sender.ts";
import { createFailurePolicy, type FailurePolicyName } from "../../../src/sink/failure-policy.ts";
import { sleep as realSleep } from "../../../src/sink/retry-policy.ts";
import { Docs, idsOf, recorder, response, seeded } from "./fixtures.ts";

interface Item {
  status: number;
  type?: string;
  op?: string;
}

/**
 * A fake bulk endpoint: `answer` gets the ids of each request (in order) and the call
 * number, and returns one item per id or throws. Every request's ids are recorded.
 */
function fakeBulk(answer: (ids: string[], call: number) => Item[] | Promise<Item[]>) {
  const calls: string[][] = [];
  const bulk: BulkFunction = async (body): Promise<BulkResponseBody> => {
    const ids = idsOf(body);
    calls.push(ids);
    return response(await answer(ids, calls.length));
  };
  return { bulk, calls };
}

function setup(bulk: BulkFunction, policy: FailurePolicyName = "skip", extra: Partial<BulkSenderDeps> = {}) {
  const { observer, logger, recorded } = recorder();
  const delays: number[] = [];
  const send = createBulkSender({
    bulk,
    failurePolicy: createFailurePolicy(policy, { observer, logger }),
    retry: { retryInitialMs: 100, retryMaxMs: 1000 },
    observer,
    logger,
    random: seeded(1),
    sleep: (ms) => {
      delays.push(ms);
      return Promise.resolve();
    },
    ...extra,
  });
  return { send, recorded, delays };
}

const signal = new AbortController().signal;
const ok = (ids: string[]): Item[] => ids.map(() => ({ status: 201 }));

function outcomes(recorded: ReturnType<typeof recorder>["recorded"]): string[] {
  return recorded.calls
    .filter((c) => c.method === "bulkCompleted")
    .map((c) => (c.args[0] as { outcome: string }).outcome);
}

describe("bulk sender", () => {
  test("a clean batch is sent once and every document acked once", async () => {
    const docs = new Docs();
    const { bulk, calls } = fakeBulk(ok);
    const { send, recorded } = setup(bulk);
    const batch = [...docs.many(3), docs.make("x9", { index: "other" })];
    assert.deepEqual(await send(batch, signal), { kind: "settled" });
    assert.equal(calls.length, 1);
    for (const id of ["d0", "d1", "d2", "x9"]) assert.equal(docs.acked(id), 1, id);
    const indexed = recorded.calls.find((c) => c.method === "documentsIndexed");
    assert.deepEqual(indexed?.args, [4, new Map([["idx", 3], ["other", 1]])]);
    assert.deepEqual(outcomes(recorded), ["success"]);
    const completed = recorded.calls.find((c) => c.method === "bulkCompleted")?.args[0] as { documents: number; bytes: number };
    assert.equal(completed.documents, 4);
    assert.ok(completed.bytes > 0);
  });

  test("partial failures: only the failed items are re-sent, with backoff, until settled", async () => {
    const docs = new Docs();
    const { bulk, calls } = fakeBulk((ids, call) =>
      ids.map((id) => {
        if (call === 1 && (id === "d1" || id === "d3")) return { status: 429, type: "es_rejected_execution_exception" };
        if (call === 2 && id === "d3") return { status: 503, type: "node_closed_exception" };
        return { status: 201 };
      }),
    );
    const { send, recorded, delays } = setup(bulk);
    assert.deepEqual(await send(docs.many(5), signal), { kind: "settled" });
    assert.deepEqual(calls, [["d0", "d1", "d2", "d3", "d4"], ["d1", "d3"], ["d3"]]);
    for (let i = 0; i < 5; i++) assert.equal(docs.acked(`d${i}`), 1);
    assert.equal(delays.length, 2);
    assert.ok(delays[0] !== undefined && delays[0] < 100, "first delay within retryInitialMs");
    assert.ok(delays[1] !== undefined && delays[1] < 200, "second delay within twice that");
    const retried = recorded.calls.filter((c) => c.method === "documentsRetried").map((c) => c.args);
    assert.deepEqual(retried, [
      [2, "throttled"],
      [1, "server_error"],
    ]);
    assert.deepEqual(outcomes(recorded), ["retry", "retry", "success"]);
  });

  test("nothing is acked before it is settled", async () => {
    const docs = new Docs();
    let ackedDuringSecondCall = -1;
    const { bulk } = fakeBulk((ids, call) => {
      if (call === 2) ackedDuringSecondCall = docs.acked("d1");
      return ids.map((id) => (call === 1 && id === "d1" ? { status: 500 } : { status: 200 }));
    });
    const { send } = setup(bulk);
    await send(docs.many(2), signal);
    assert.equal(ackedDuringSecondCall, 0);
    assert.equal(docs.acked("d1"), 1);
  });

  test("409 on create is success (already there); 404 on delete is success (already gone)", async () => {
    const docs = new Docs();
    const { bulk, calls } = fakeBulk((ids) =>
      ids.map((id) =>
        id === "c1"
          ? { op: "create", status: 409, type: "version_conflict_engine_exception" }
          : { op: "delete", status: 404 },
      ),
    );
    const { send, recorded } = setup(bulk, "stop");
    const result = await send([docs.make("c1", { op: "create" }), docs.make("r2", { op: "delete", source: undefined })], signal);
    assert.deepEqual(result, { kind: "settled" });
    assert.equal(calls.length, 1);
    assert.equal(docs.acked("c1"), 1);
    assert.equal(docs.acked("r2"), 1);
    assert.equal(recorded.count("documentRejected"), 0);
  });

  test("an operator error holds the document under skip: retried, counted, logged, never handed to the policy", async () => {
    const docs = new Docs();
    const { bulk, calls } = fakeBulk((ids, call) =>
      ids.map((id) => (id === "d1" && call <= 3 ? { status: 404, type: "index_not_found_exception" } : { status: 201 })),
    );
    const { send, recorded } = setup(bulk, "skip");
    assert.deepEqual(await send(docs.many(3), signal), { kind: "settled" });
    assert.deepEqual(calls, [["d0", "d1", "d2"], ["d1"], ["d1"], ["d1"]], "held and sent again until the index exists");
    for (let i = 0; i < 3; i++) assert.equal(docs.acked(`d${i}`), 1);
    assert.equal(recorded.count("documentRejected"), 0, "never skipped");
    const held = recorded.calls.filter((c) => c.method === "operatorActionNeeded").map((c) => c.args);
    assert.deepEqual(held, [[1, "index_not_found_exception"], [1, "index_not_found_exception"], [1, "index_not_found_exception"]]);
    const retried = recorded.calls.filter((c) => c.method === "documentsRetried").map((c) => c.args);
    assert.deepEqual(retried, [[1, "blocked"], [1, "blocked"], [1, "blocked"]]);
    assert.equal(recorded.count("log.error"), 3, "each held round is logged as an error naming the cause");
  });

  test("a 403 write block is logged as a block, a 403 security_exception as a missing privilege", async () => {
    for (const [type, pattern] of [["cluster_block_exception", /operator must fix/], ["security_exception", /not authorized/]] as const) {
      const docs = new Docs();
      const { bulk } = fakeBulk((ids, call) => ids.map(() => (call === 1 ? { status: 403, type } : { status: 201 })));
      const { send, recorded } = setup(bulk, "skip");
      await send(docs.many(1), signal);
      const logged = recorded.calls.find((c) => c.method === "log.error")?.args[1];
      assert.match(String(logged), pattern, type);
    }
  });

  test("a whole request refused 403 (no privilege) is held and counted for the operator", async () => {
    const docs = new Docs();
    let call = 0;
    const bulk: BulkFunction = (body) => {
      call++;
      if (call === 1) return Promise.reject(new SinkUnavailableError("bulk request refused: HTTP 403", { statusCode: 403 }));
      return Promise.resolve(response(idsOf(body).map(() => ({ status: 201 }))));
    };
    const { send, recorded } = setup(bulk, "skip");
    assert.deepEqual(await send(docs.many(2), signal), { kind: "settled" });
    assert.deepEqual(recorded.calls.filter((c) => c.method === "operatorActionNeeded").map((c) => c.args), [[2, "http_403"]]);
  });

  test("permanent item errors go to the policy; under skip they are acked and never re-sent", async () => {
    const docs = new Docs();
    const { bulk, calls } = fakeBulk((ids) =>
      ids.map((id) => (id === "d1" ? { status: 400, type: "mapper_parsing_exception" } : { status: 201 })),
    );
    const { send, recorded } = setup(bulk, "skip");
    assert.deepEqual(await send(docs.many(3), signal), { kind: "settled" });
    assert.equal(calls.length, 1);
    assert.equal(docs.acked("d1"), 1);
    assert.equal(recorded.count("documentRejected"), 1);
    assert.equal((recorded.calls.find((c) => c.method === "documentRejected")?.args[0] as { errorType: string }).errorType, "mapper_parsing_exception");
    assert.deepEqual(outcomes(recorded), ["partial"]);
  });

  test("under stop, the rejected document stays unacked and the sender reports the error", async () => {
    const docs = new Docs();
    const { bulk } = fakeBulk((ids) =>
      ids.map((id) => (id === "d1" ? { status: 400, type: "strict_dynamic_mapping_exception" } : { status: 201 })),
    );
    const { send } = setup(bulk, "stop");
    const result = await send(docs.many(3), signal);
    assert.ok(result.kind === "stopped");
    assert.ok(result.error instanceof RecordRejectedError);
    assert.equal(result.unsettled, 1);
    assert.equal(docs.acked("d0"), 1);
    assert.equal(docs.acked("d1"), 0);
    assert.equal(docs.acked("d2"), 1);
  });

  test("a whole-request transient failure re-sends the whole batch until it succeeds", async () => {
    const docs = new Docs();
    const failures = [
      new SinkUnavailableError("Elasticsearch unreachable: connect ECONNREFUSED"),
      new SinkUnavailableError("bulk request refused: HTTP 429", { statusCode: 429 }),
      new Error("socket hang up"), // an unknown error is treated as transient
    ];
    const { bulk, calls } = fakeBulk((ids) => {
      const failure = failures.shift();
      if (failure !== undefined) throw failure;
      return ok(ids);
    });
    const { send, recorded, delays } = setup(bulk);
    assert.deepEqual(await send(docs.many(2), signal), { kind: "settled" });
    assert.equal(calls.length, 4);
    assert.ok(calls.every((ids) => ids.join() === "d0,d1"));
    assert.equal(delays.length, 3);
    assert.deepEqual(outcomes(recorded), ["failed", "failed", "failed", "success"]);
    const reasons = recorded.calls.filter((c) => c.method === "documentsRetried").map((c) => c.args[1]);
    assert.deepEqual(reasons, ["unavailable", "throttled", "unavailable"]);
    assert.equal(docs.acked("d0"), 1);
  });

  test("backoff grows with each failed attempt, within bounds", async () => {
    const docs = new Docs();
    let failuresLeft = 8;
    const { bulk } = fakeBulk((ids) => {
      if (failuresLeft-- > 0) throw new SinkUnavailableError("down");
      return ok(ids);
    });
    const { send, delays } = setup(bulk, "skip", { random: () => 0.999 });
    await send(docs.many(1), signal);
    assert.deepEqual(delays, [99, 199, 399, 799, 999, 999, 999, 999]);
  });

  test("413 splits the batch in two until the halves fit", async () => {
    const docs = new Docs();
    const { bulk, calls } = fakeBulk((ids) => {
      if (ids.length > 2) throw new RecordRejectedError("bulk request refused: HTTP 413", { statusCode: 413 });
      return ok(ids);
    });
    const { send, recorded } = setup(bulk, "stop");
    assert.deepEqual(await send(docs.many(7), signal), { kind: "settled" });
    assert.deepEqual(calls, [
      ["d0", "d1", "d2", "d3", "d4", "d5", "d6"],
      ["d0", "d1", "d2", "d3"],
      ["d0", "d1"],
      ["d2", "d3"],
      ["d4", "d5", "d6"],
      ["d4", "d5"],
      ["d6"],
    ]);
    for (let i = 0; i < 7; i++) assert.equal(docs.acked(`d${i}`), 1);
    assert.equal(recorded.count("documentRejected"), 0);
  });

  test("a single document refused with 413 is rejected as request_too_large", async () => {
    const docs = new Docs();
    const { bulk } = fakeBulk((ids) => {
      if (ids.includes("d1")) throw new RecordRejectedError("bulk request refused: HTTP 413", { statusCode: 413 });
      return ok(ids);
    });
    const { send, recorded } = setup(bulk, "skip");
    assert.deepEqual(await send(docs.many(3), signal), { kind: "settled" });
    const event = recorded.calls.find((c) => c.method === "documentRejected")?.args[0] as { errorType: string; offset: string };
    assert.equal(event.errorType, "request_too_large");
    assert.equal(event.offset, "1");
    assert.deepEqual([0, 1, 2].map((i) => docs.acked(`d${i}`)), [1, 1, 1]);
  });

  test("a request-level 400 is bisected so only the offending document is rejected", async () => {
    const docs = new Docs();
    const { bulk, calls } = fakeBulk((ids) => {
      if (ids.includes("d5")) throw new RecordRejectedError("bulk request refused: HTTP 400", { statusCode: 400 });
      return ok(ids);
    });
    const { send, recorded } = setup(bulk, "skip");
    assert.deepEqual(await send(docs.many(8), signal), { kind: "settled" });
    assert.equal(recorded.count("documentRejected"), 1);
    const event = recorded.calls.find((c) => c.method === "documentRejected")?.args[0] as { errorType: string; offset: string };
    assert.deepEqual([event.errorType, event.offset], ["http_400", "5"]);
    assert.ok(calls.length <= 1 + 2 * Math.ceil(Math.log2(8)));
    for (let i = 0; i < 8; i++) assert.equal(docs.acked(`d${i}`), 1);
  });

  test("a request-level rejection under stop stops without acking the offender", async () => {
    const docs = new Docs();
    const { bulk } = fakeBulk(() => {
      throw new RecordRejectedError("bulk request refused: HTTP 400", { statusCode: 400 });
    });
    const { send } = setup(bulk, "stop");
    const result = await send(docs.many(4), signal);
    assert.ok(result.kind === "stopped");
    assert.equal(result.unsettled, 4);
    assert.equal([...docs.acks.values()].length, 0);
  });

  test("invalid actions are rejected locally and never sent", async () => {
    const docs = new Docs();
    const { bulk, calls } = fakeBulk(ok);
    const { send, recorded } = setup(bulk, "skip");
    const result = await send([docs.make("d0"), docs.make("d1", { source: undefined }), docs.make("d2", { id: "" })], signal);
    assert.deepEqual(result, { kind: "settled" });
    assert.deepEqual(calls, [["d0"]]);
    assert.equal(recorded.count("documentRejected"), 2);
    assert.deepEqual([0, 1, 2].map((i) => docs.acked(`d${i}`)), [1, 1, 1]);
  });

  test("abort during backoff returns promptly and leaves unsettled documents unacked", async () => {
    const docs = new Docs();
    const { bulk, calls } = fakeBulk((ids) =>
      ids.map((id) => (id === "d1" ? { status: 429, type: "es_rejected_execution_exception" } : { status: 201 })),
    );
    const controller = new AbortController();
    const { send } = setup(bulk, "skip", { sleep: realSleep, retry: { retryInitialMs: 60_000, retryMaxMs: 60_000 }, random: () => 0.99 });
    const started = performance.now();
    const sending = send(docs.many(3), controller.signal);
    setTimeout(() => {
      controller.abort();
    }, 20);
    const result = await sending;
    assert.ok(performance.now() - started < 5_000, "did not wait out the backoff");
    assert.deepEqual(result, { kind: "aborted", unsettled: 1 });
    assert.equal(calls.length, 1);
    assert.deepEqual([0, 1, 2].map((i) => docs.acked(`d${i}`)), [1, 0, 1]);
  });

  test("abort during a request acks nothing", async () => {
    const docs = new Docs();
    const controller = new AbortController();
    const bulk: BulkFunction = (_body, requestSignal) =>
      new Promise((_resolve, reject) => {
        requestSignal.addEventListener("abort", () => {
          reject(new SinkUnavailableError("bulk request failed: Request aborted"));
        });
      });
    const { send, delays } = setup(bulk);
    const sending = send(docs.many(2), controller.signal);
    controller.abort();
    assert.deepEqual(await sending, { kind: "aborted", unsettled: 2 });
    assert.equal(docs.acks.size, 0);
    assert.equal(delays.length, 0);
  });

  test("an already aborted signal sends nothing", async () => {
    const docs = new Docs();
    const { bulk, calls } = fakeBulk(ok);
    const { send } = setup(bulk);
    assert.deepEqual(await send(docs.many(2), AbortSignal.abort()), { kind: "aborted", unsettled: 2 });
    assert.equal(calls.length, 0);
  });

  test("an empty batch is settled without a request", async () => {
    const { bulk, calls } = fakeBulk(ok);
    assert.deepEqual(await setup(bulk).send([], signal), { kind: "settled" });
    assert.equal(calls.length, 0);
  });
});
