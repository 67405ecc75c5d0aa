import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { BulkAction } from "../../../src/pipeline/document.ts";
import { classifyItem, classifyResponse, describeCause, isOperatorError } from "../../../src/sink/bulk-response.ts";

const err = (type: string, reason = "why") => ({ type, reason });

describe("classifyItem", () => {
  test("2xx is indexed", () => {
    for (const status of [200, 201]) assert.deepEqual(classifyItem({ op: "index" }, { status }), { kind: "indexed" });
    assert.deepEqual(classifyItem({ op: "delete" }, { status: 200, result: "deleted" }), { kind: "indexed" });
  });

  test("409 version conflict on create means already there: success", () => {
    assert.deepEqual(classifyItem({ op: "create" }, { status: 409, error: err("version_conflict_engine_exception") }), {
      kind: "indexed",
    });
  });

  test("409 on index or delete is success too: external versioning says a newer version is there", () => {
    for (const op of ["index", "delete"] as const) {
      const outcome = classifyItem({ op }, { status: 409, error: err("version_conflict_engine_exception", "current version [9] is higher or equal to the one provided [4]") });
      assert.deepEqual(outcome, { kind: "indexed" }, op);
    }
  });

  test("404 on delete is success, whether the document or the index is missing", () => {
    assert.deepEqual(classifyItem({ op: "delete" }, { status: 404, result: "not_found" }), { kind: "indexed" });
    assert.deepEqual(classifyItem({ op: "delete" }, { status: 404, error: err("index_not_found_exception") }), { kind: "indexed" });
  });

  test("429 is retried as throttled, 5xx as server errors", () => {
    assert.deepEqual(classifyItem({ op: "index" }, { status: 429, error: err("es_rejected_execution_exception", "queue full") }), {
      kind: "retry",
      status: 429,
      reason: "throttled",
      errorType: "es_rejected_execution_exception",
      detail: "es_rejected_execution_exception: queue full",
    });
    for (const status of [500, 502, 503, 504]) {
      const outcome = classifyItem({ op: "create" }, { status, error: err("node_closed_exception") });
      assert.ok(outcome.kind === "retry", String(status));
      assert.equal(outcome.reason, "server_error");
    }
    // A red index (its primary unavailable for the whole bulk timeout) is the operator's: its partition is held.
    const red = classifyItem({ op: "create" }, { status: 503, error: err("unavailable_shards_exception") });
    assert.ok(red.kind === "retry");
    assert.equal(red.reason, "blocked");
  });

  test("operator-fixable errors are held and retried as blocked, whatever their status", () => {
    const cases: [number, string, string][] = [
      [404, "index_not_found_exception", "no such index [logs] and [action.auto_create_index] is [false]"],
      [404, "index_not_found_exception", "no such index [logs] and [require_data_stream] request flag is [true] and [logs] is not a data stream"],
      [400, "index_closed_exception", "closed"],
      [403, "cluster_block_exception", "index [logs] blocked by: [FORBIDDEN/8/index write (api)];"],
      [429, "cluster_block_exception", "index [logs] blocked by: [TOO_MANY_REQUESTS/12/disk usage exceeded flood-stage watermark, index has read-only-allow-delete block];"],
      [403, "security_exception", "action [indices:data/write/bulk[s]] is unauthorized for user [worker]"],
      [401, "security_exception", "unable to authenticate user"],
      [400, "illegal_argument_exception", "only write ops with an op_type of create are allowed in data streams"],
      [400, "illegal_argument_exception", "no write index is defined for alias [logs]. The write index may be explicitly disabled using is_write_index=false or the alias points to multiple indices without one being designated as a write index"],
      [403, "some_future_exception", "forbidden"],
    ];
    for (const [status, type, reason] of cases) {
      const outcome = classifyItem({ op: "index" }, { status, error: err(type, reason) });
      assert.ok(outcome.kind === "retry", `${String(status)} ${type}: ${reason}`);
      assert.equal(outcome.reason, "blocked", `${String(status)} ${type}`);
      assert.equal(outcome.errorType, type);
    }
    assert.equal(isOperatorError(404, undefined), true, "a bare 404 says nothing about the document");
  });

  test("what is wrong with the document itself is a permanent rejection", () => {
    const cases: [number, string, string][] = [
      [400, "mapper_parsing_exception", "failed to parse field [n] of type [long]"],
      [400, "document_parsing_exception", "[1:7] failed to parse field [n] of type [long] in document with id 'x'"],
      [400, "strict_dynamic_mapping_exception", "[1:2] mapping set to strict, dynamic introduction of [x] within [_doc] is not allowed"],
      [400, "illegal_argument_exception", "Document contains at least one immense term in field=\"f\" (whose UTF8 encoding is longer than the max length 32766)"],
      [400, "illegal_argument_exception", "Limit of total fields [1000] has been exceeded while adding new fields [1]"],
      [400, "max_bytes_length_exceeded_exception", "bytes can be at most 32766 in length"],
    ];
    for (const [status, type, reason] of cases) {
      const outcome = classifyItem({ op: "index" }, { status, error: err(type, reason) });
      assert.equal(outcome.kind, "rejected", `${type}: ${reason}`);
    }
  });

  test("an error without a type still gets one from its status", () => {
    assert.deepEqual(classifyItem({ op: "index" }, { status: 400 }), {
      kind: "rejected",
      status: 400,
      errorType: "http_400",
      detail: "HTTP 400",
    });
  });

  test("a missing or malformed item is retried, never assumed", () => {
    for (const item of [undefined, { status: 0 }, { status: Number.NaN }]) {
      const outcome = classifyItem({ op: "index" }, item);
      assert.ok(outcome.kind === "retry");
      assert.equal(outcome.errorType, "missing_item");
    }
  });
});

describe("describeCause", () => {
  test("follows caused_by so the root cause is visible", () => {
    assert.equal(
      describeCause({
        type: "document_parsing_exception",
        reason: "[1:8] failed to parse field [n]",
        caused_by: { type: "number_format_exception", reason: 'For input string: "x"' },
      }),
      'document_parsing_exception: [1:8] failed to parse field [n] (caused by number_format_exception: For input string: "x")',
    );
    assert.equal(describeCause(undefined), "");
    assert.equal(describeCause({ type: "a", reason: null }), "a:");
  });
});

describe("classifyResponse", () => {
  const actions: BulkAction[] = [
    { op: "index", index: "i", id: "1", source: "{}" },
    { op: "create", index: "i", id: "2", source: "{}" },
    { op: "delete", index: "i", id: "3", source: undefined },
  ];

  test("errors:false with every item present: all indexed", () => {
    const outcomes = classifyResponse(actions, {
      errors: false,
      items: [{ index: { status: 201 } }, { create: { status: 201 } }, { delete: { status: 404, result: "not_found" } }],
    });
    assert.deepEqual(outcomes.map((o) => o.kind), ["indexed", "indexed", "indexed"]);
  });

  test("items are matched by position", () => {
    const outcomes = classifyResponse(actions, {
      errors: true,
      items: [
        { index: { status: 429, error: err("es_rejected_execution_exception") } },
        { create: { status: 409, error: err("version_conflict_engine_exception") } },
        { delete: { status: 503, error: err("unavailable_shards_exception") } },
      ],
    });
    assert.deepEqual(outcomes.map((o) => o.kind), ["retry", "indexed", "retry"]);
  });

  test("a short response gets the missing items retried", () => {
    const outcomes = classifyResponse(actions, { errors: false, items: [{ index: { status: 201 } }] });
    assert.deepEqual(outcomes.map((o) => o.kind), ["indexed", "retry", "retry"]);
  });

  test("a response without items retries everything", () => {
    const outcomes = classifyResponse(actions, { errors: false } as unknown as { errors: boolean; items: [] });
    assert.deepEqual(outcomes.map((o) => o.kind), ["retry", "retry", "retry"]);
  });

  test("the item is read whatever operation key the server used", () => {
    const outcomes = classifyResponse(actions.slice(0, 1), { errors: true, items: [{ update: { status: 400 } }] });
    assert.equal(outcomes[0]?.kind, "rejected");
  });
});

describe("classifyItem: pipelines, updates and failure stores", () => {
  test("a missing ingest pipeline is an operator's to fix: held", () => {
    const outcome = classifyItem({ op: "index", pipeline: "nope" }, { status: 400, error: err("illegal_argument_exception", "pipeline with id [nope] does not exist") });
    assert.ok(outcome.kind === "retry" && outcome.reason === "blocked", JSON.stringify(outcome));
  });

  test("a document the pipeline fails is rejected, answered 400 or 500 (a processor's own exception)", () => {
    const failed = classifyItem({ op: "index", pipeline: "p" }, { status: 500, error: err("fail_processor_exception", "refused") });
    assert.deepEqual(failed, { kind: "rejected", status: 500, errorType: "fail_processor_exception", detail: "fail_processor_exception: refused" });
    assert.equal(classifyItem({ op: "create", pipeline: "p" }, { status: 400, error: err("illegal_argument_exception", "field [a] doesn't exist") }).kind, "rejected");
  });

  test("with a pipeline, 5xx about the cluster stay transient; without one, a 500 is a server error", () => {
    for (const type of ["unavailable_shards_exception", "node_closed_exception", "es_rejected_execution_exception"]) {
      assert.equal(classifyItem({ op: "index", pipeline: "p" }, { status: 500, error: err(type) }).kind, "retry", type);
    }
    assert.equal(classifyItem({ op: "index", pipeline: "p" }, { status: 503, error: err("fail_processor_exception") }).kind, "retry");
    assert.equal(classifyItem({ op: "index" }, { status: 500, error: err("fail_processor_exception") }).kind, "retry");
  });

  test("an update answered 409 was not applied: retried as a conflict", () => {
    const outcome = classifyItem({ op: "update" }, { status: 409, error: err("version_conflict_engine_exception") });
    assert.equal(outcome.kind === "retry" ? outcome.reason : outcome.kind, "conflict");
  });

  test("an item kept in the failure store is its own outcome, even in a response without errors", () => {
    assert.deepEqual(classifyItem({ op: "create" }, { status: 201, failure_store: "used" }), { kind: "failure_stored" });
    assert.deepEqual(classifyItem({ op: "create" }, { status: 201, failure_store: "not_enabled" }), { kind: "indexed" });
    const actions: BulkAction[] = [
      { op: "create", index: "a", id: "1", source: "{}" },
      { op: "create", index: "a", id: "2", source: "{}" },
    ];
    assert.deepEqual(classifyResponse(actions, { errors: false, items: [{ create: { status: 201 } }, { create: { status: 201, failure_store: "used" } }] }), [
      { kind: "indexed" },
      { kind: "failure_stored" },
    ]);
  });
});
