import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { BulkAction } from "../../../src/pipeline/document.ts";
import {
  actionLine,
  buildBulkBody,
  estimateActionBytes,
  invalidAction,
  MAX_ID_BYTES,
  sourceLine,
} from "../../../src/sink/bulk-request.ts";
import { Docs } from "./fixtures.ts";

describe("bulk request body", () => {
  test("action lines carry op, index and id", () => {
    assert.equal(actionLine({ op: "index", index: "logs", id: "t-0-1", source: "{}" }), '{"index":{"_index":"logs","_id":"t-0-1"}}');
    assert.equal(actionLine({ op: "create", index: "logs", id: "x", source: "{}" }), '{"create":{"_index":"logs","_id":"x"}}');
    assert.equal(actionLine({ op: "delete", index: "logs", id: "x", source: undefined }), '{"delete":{"_index":"logs","_id":"x"}}');
    // External versions are raw JSON numbers, exact beyond 2^53.
    assert.equal(
      actionLine({ op: "index", index: "logs", id: "k", version: "9223372036854775807", source: "{}" }),
      '{"index":{"_index":"logs","_id":"k","version":9223372036854775807,"version_type":"external"}}',
    );
    assert.equal(
      actionLine({ op: "delete", index: "logs", id: "k", version: "0", source: undefined }),
      '{"delete":{"_index":"logs","_id":"k","version":0,"version_type":"external"}}',
    );
    assert.throws(() => actionLine({ op: "index", index: "logs", id: "k", version: "1e3", source: "{}" }), /invalid external version/);
  });

  test("no _id when the id is undefined", () => {
    assert.equal(actionLine({ op: "index", index: "logs", id: undefined, source: "{}" }), '{"index":{"_index":"logs"}}');
  });

  test("index and id are JSON-escaped", () => {
    const line = actionLine({ op: "index", index: 'a"b', id: "x\ny\\", source: "{}" });
    assert.deepEqual(JSON.parse(line), { index: { _index: 'a"b', _id: "x\ny\\" } });
    assert.equal(line.includes("\n"), false);
  });

  test("the body embeds sources byte-identical, ends with a newline, delete has no source line", () => {
    const docs = new Docs();
    const weird = '{"b": 1,  "a":"é\\u00e9 😀",\t"z":[1.50, 1e3, "\\n"]}';
    const body = buildBulkBody([
      docs.make("1", { source: weird }),
      docs.make("2", { op: "delete", source: undefined }),
      docs.make("3", { op: "create", id: undefined, index: "other", source: "{}" }),
    ]);
    assert.equal(
      body.toString("utf8"),
      '{"index":{"_index":"idx","_id":"1"}}\n' +
        weird +
        "\n" +
        '{"delete":{"_index":"idx","_id":"2"}}\n' +
        '{"create":{"_index":"other"}}\n' +
        "{}\n",
    );
    assert.ok(body.includes(Buffer.from(weird)), "the source's exact UTF-8 bytes are in the body");
  });

  test("Buffer sources are copied byte for byte, mixed with text sources", () => {
    const docs = new Docs();
    const bytes = Buffer.from('{"a":"é😀","n":12345678901234567890}');
    const body = buildBulkBody([docs.make("1", { source: bytes }), docs.make("2", { source: '{"b":"ü"}' }), docs.make("3", { source: bytes })]);
    const expected = Buffer.concat([
      Buffer.from('{"index":{"_index":"idx","_id":"1"}}\n'),
      bytes,
      Buffer.from('\n{"index":{"_index":"idx","_id":"2"}}\n{"b":"ü"}\n{"index":{"_index":"idx","_id":"3"}}\n'),
      bytes,
      Buffer.from("\n"),
    ]);
    assert.deepEqual(body, expected);
  });

  test("a delete carrying a source still sends no source line", () => {
    const docs = new Docs();
    assert.equal(buildBulkBody([docs.make("1", { op: "delete", source: '{"x":1}' })]).toString(), '{"delete":{"_index":"idx","_id":"1"}}\n');
  });

  test("raw line breaks in a (pretty-printed) source become spaces so lines stay aligned", () => {
    assert.equal(sourceLine('{\n  "a": 1\r\n}'), '{   "a": 1  }');
    const single = '{"a":"no breaks"}';
    assert.equal(sourceLine(single), single);
    const docs = new Docs();
    const body = buildBulkBody([docs.make("1", { source: '{\n"a":1\n}' }), docs.make("2")]);
    assert.equal(body.toString().split("\n").length, 5);
  });

  test("raw line breaks in a Buffer source are blanked in the body, not in the source", () => {
    const docs = new Docs();
    const bytes = Buffer.from('{\r\n"a":"é",\n"b":1}');
    const before = Buffer.from(bytes);
    const body = buildBulkBody([docs.make("1", { source: bytes }), docs.make("2", { source: Buffer.from("{}") })]);
    assert.equal(body.toString(), '{"index":{"_index":"idx","_id":"1"}}\n{  "a":"é", "b":1}\n{"index":{"_index":"idx","_id":"2"}}\n{}\n');
    assert.deepEqual(bytes, before, "the source itself is left alone");
  });

  test("a spliced source is written as its head then the record's bytes, line breaks blanked in the body only", () => {
    const docs = new Docs();
    const value = Buffer.from('{\n"a":"é"}\r\n');
    const before = Buffer.from(value);
    const source = { head: '{"@timestamp":"2024-01-01T00:00:00.000Z",', rest: value.subarray(1), restBytes: value.length - 1 };
    const body = buildBulkBody([docs.make("1", { source })]);
    assert.equal(body.toString(), '{"index":{"_index":"idx","_id":"1"}}\n{"@timestamp":"2024-01-01T00:00:00.000Z", "a":"é"}  \n');
    assert.deepEqual(value, before, "the record's bytes are left alone");
    assert.equal(estimateActionBytes({ op: "index", index: "idx", id: "1", source }), body.length);
  });

  test("an escaped spliced source (a wrapped text line) is written as JSON.stringify would", () => {
    const docs = new Docs();
    const line = 'GET "/a\\b"\ttab\u0001 é😀';
    const source = { head: '{"message":"', rest: Buffer.from(line), escapeRest: true, restBytes: Buffer.byteLength(JSON.stringify(line)) - 2, tail: '"}' };
    const body = buildBulkBody([docs.make("1", { source })]);
    assert.equal(body.toString(), `{"index":{"_index":"idx","_id":"1"}}\n{"message":${JSON.stringify(line)}}\n`);
  });

  test("a document's cached action line is used as is", () => {
    const docs = new Docs();
    const document = { ...docs.make("1", { source: "{}" }), actionLine: '{"index":{"_index":"cached"}}' };
    assert.equal(buildBulkBody([document]).toString(), '{"index":{"_index":"cached"}}\n{}\n');
    const action = document.action;
    assert.equal(estimateActionBytes(action, document.actionLine), '{"index":{"_index":"cached"}}\n{}\n'.length);
  });

  test("an empty batch is an empty body", () => {
    assert.equal(buildBulkBody([]).length, 0);
  });

  test("index/create without a source is refused rather than misaligning the body", () => {
    const docs = new Docs();
    assert.throws(() => buildBulkBody([docs.make("1", { source: undefined })]), TypeError);
  });

  test("byte estimates equal the body's UTF-8 size", () => {
    const actions: BulkAction[] = [
      { op: "index", index: "idx", id: "1", source: '{"a":"é😀"}' },
      { op: "create", index: "idx", id: undefined, source: "{}" },
      { op: "delete", index: "idx", id: "2", source: undefined },
      { op: "index", index: "idé", id: "ü", source: Buffer.from('{"a":"é😀"}') },
      { op: "index", index: "idx", id: "3", source: { head: '{"t":"é",', rest: Buffer.from('"a":"😀"}'), restBytes: Buffer.byteLength('"a":"😀"}') } },
      { op: "index", index: "idx", id: "4", source: { head: '{"m":"', rest: Buffer.from('a"\\\n\u0001é'), escapeRest: true, restBytes: 15, tail: '"}' } },
    ];
    const docs = new Docs();
    for (const action of actions) {
      const body = buildBulkBody([{ ...docs.make("x"), action }]);
      assert.equal(estimateActionBytes(action), body.length, action.op);
    }
  });

  test("invalidAction flags what would fail the whole request", () => {
    assert.equal(invalidAction({ op: "index", index: "i", id: "1", source: "{}" }), undefined);
    assert.equal(invalidAction({ op: "delete", index: "i", id: "1", source: undefined }), undefined);
    assert.match(invalidAction({ op: "create", index: "i", id: "1", source: undefined }) ?? "", /without a source/);
    assert.match(invalidAction({ op: "index", index: "", id: "1", source: "{}" }) ?? "", /index/);
    assert.match(invalidAction({ op: "index", index: "i", id: "", source: "{}" }) ?? "", /empty document id/);
    assert.equal(invalidAction({ op: "index", index: "i", id: "x".repeat(MAX_ID_BYTES), source: "{}" }), undefined);
    assert.match(invalidAction({ op: "index", index: "i", id: "é".repeat(MAX_ID_BYTES / 2 + 1), source: "{}" }) ?? "", /512/);
  });
});

describe("bulk action lines: pipelines and updates", () => {
  test("a pipeline goes on the action line, escaped", () => {
    assert.equal(actionLine({ op: "index", index: "logs", id: "x", pipeline: "enrich", source: "{}" }), '{"index":{"_index":"logs","_id":"x","pipeline":"enrich"}}');
    assert.equal(
      actionLine({ op: "index", index: "logs", id: "k", version: "7", pipeline: 'p"q', source: "{}" }),
      '{"index":{"_index":"logs","_id":"k","version":7,"version_type":"external","pipeline":"p\\"q"}}',
    );
    assert.equal(actionLine({ op: "create", index: "logs", id: undefined, pipeline: "p", source: "{}" }), '{"create":{"_index":"logs","pipeline":"p"}}');
  });

  test("an update retries on conflict inside Elasticsearch, and its source line is the doc_as_upsert body", () => {
    assert.equal(actionLine({ op: "update", index: "users", id: "u1", source: '{"doc":{},"doc_as_upsert":true}' }), '{"update":{"_index":"users","_id":"u1","retry_on_conflict":3}}');
    const docs = new Docs();
    const body = buildBulkBody([docs.make("u1", { op: "update", source: '{"doc":{"a":1},"doc_as_upsert":true}' })]).toString();
    assert.equal(body, '{"update":{"_index":"idx","_id":"u1","retry_on_conflict":3}}\n{"doc":{"a":1},"doc_as_upsert":true}\n');
  });
});
