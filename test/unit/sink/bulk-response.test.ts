import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { BulkAction } from "../../../src/pipeline/document.ts";
import { classifyItem, classifyResponse, describeCause } from "../../../src/sink/bulk-response.ts";

const err = (type: string, reason = "why") => ({ type, reason });

describe("classifyItem", () => {
  test("2xx is indexed", () => {
    for (const status of [200, 201]) assert.deepEqual(classifyItem("index", { status }), { kind: "indexed" });
    assert.deepEqual(classifyItem("delete", { status: 200, result: "deleted" }), { kind: "indexed" });
  });

  test("409 version conflict on create means already there: success", () => {
    assert.deepEqual(classifyItem("create", { status: 409, error: err("version_conflict_engine_exception") }), {
      kind: "indexed",
    });
  });

  test("409 on index is a permanent rejection (only create implies 'already there')", () => {
    const outcome = classifyItem("index", { status: 409, error: err("version_conflict_engine_exception") });
    assert.equal(outcome.kind, "rejected");
  });

  test("404 on delete is success, whether the document or the index is missing", () => {
    assert.deepEqual(classifyItem("delete", { status: 404, result: "not_found" }), { kind: "indexed" });
    assert.deepEqual(classifyItem("delete", { status: 404, error: err("index_not_found_exception") }), { kind: "indexed" });
  });

  test("429 is retried as throttled, 5xx as server errors", () => {
    assert.deepEqual(classifyItem("index", { status: 429, error: err("es_rejected_execution_exception", "queue full") }), {
      kind: "retry",
      status: 429,
      reason: "throttled",
      errorType: "es_rejected_execution_exception",
      detail: "es_rejected_execution_exception: queue full",
    });
    for (const status of [500, 502, 503, 504]) {
      const outcome = classifyItem("create", { status, error: err("unavailable_shards_exception") });
      assert.ok(outcome.kind === "retry", String(status));
      assert.equal(outcome.reason, "server_error");
    }
  });

  test("401/403 (privileges, write blocks) are retried, not dropped", () => {
    for (const [status, type] of [[403, "security_exception"], [403, "cluster_block_exception"], [401, "security_exception"]] as const) {
      const outcome = classifyItem("index", { status, error: err(type) });
      assert.ok(outcome.kind === "retry", `${status} ${type}`);
      assert.equal(outcome.reason, "unavailable");
    }
  });

  test("permanent item errors are rejected with their type", () => {
    const cases: [BulkAction["op"], number, string][] = [
      ["index", 400, "mapper_parsing_exception"],
      ["index", 400, "document_parsing_exception"],
      ["create", 400, "illegal_argument_exception"],
      ["index", 400, "strict_dynamic_mapping_exception"],
      ["index", 400, "invalid_index_name_exception"],
      ["index", 404, "index_not_found_exception"],
    ];
    for (const [op, status, type] of cases) {
      assert.deepEqual(classifyItem(op, { status, error: err(type) }), {
        kind: "rejected",
        status,
        errorType: type,
        detail: `${type}: why`,
      });
    }
  });

  test("an error without a type still gets one from its status", () => {
    assert.deepEqual(classifyItem("index", { status: 400 }), {
      kind: "rejected",
      status: 400,
      errorType: "http_400",
      detail: "HTTP 400",
    });
  });

  test("a missing or malformed item is retried, never assumed", () => {
    for (const item of [undefined, { status: 0 }, { status: Number.NaN }]) {
      const outcome = classifyItem("index", item);
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
