import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createDecoder } from "../../../src/pipeline/decoder.ts";
import type { DecodeResult, DecoderOptions } from "../../../src/pipeline/decoder.ts";
import { isSpliced, sourceByteLength, sourceBytes, type BulkAction } from "../../../src/pipeline/document.ts";
import type { KafkaRecord } from "../../../src/pipeline/record.ts";
import { createRouter } from "../../../src/pipeline/router.ts";
import { createTopicSettingsLookup } from "../../../src/pipeline/topic-settings.ts";

const TS = Date.parse("2024-03-05T12:34:56.789Z");
const ISO = "2024-03-05T12:34:56.789Z";

function record(value: Buffer | string | null, extra: Partial<KafkaRecord> = {}): KafkaRecord {
  const buffer = typeof value === "string" ? Buffer.from(value) : value;
  return {
    topic: "orders",
    partition: 3,
    offset: "42",
    timestamp: TS,
    key: null,
    value: buffer,
    headers: {},
    size: buffer?.length ?? 0,
    ...extra,
  };
}

function decoder(options: Partial<DecoderOptions> = {}): ReturnType<typeof createDecoder> {
  return createDecoder({ router: createRouter(), ...options });
}

function action(result: DecodeResult): BulkAction {
  assert.equal(result.kind, "document");
  return result.action;
}

function source(result: DecodeResult): string {
  const raw = action(result).source;
  assert.ok(raw !== undefined, "a document has a source");
  // JSON objects come out as bytes, wrapped values as text: compare both as text.
  let text = typeof raw === "string" ? raw : sourceBytes(raw).toString("utf8");
  // A spliced source keeps the record's own bytes; the bulk body builder blanks their
  // raw line breaks (tested in bulk-request.test.ts): do the same here.
  if (typeof raw === "object" && isSpliced(raw)) text = text.replace(/[\r\n]/g, " ");
  assert.ok(!text.includes("\n"), "a bulk source must be one line");
  return text;
}

function doc(result: DecodeResult): Record<string, unknown> {
  return JSON.parse(source(result)) as Record<string, unknown>;
}

describe("decoder: JSON object fast path", () => {
  test("returns the identical text when nothing must change", () => {
    const text = '{ "@timestamp":"2020-01-01T00:00:00Z", "n": 12345678901234567890, "f": 1.50, "z": "\\u00e9" }';
    assert.equal(source(decoder().decode(record(text))), text);
  });

  test("keeps the text when timestamps are off", () => {
    const text = '{"a":1}';
    assert.equal(source(decoder({ addTimestamp: false }).decode(record(text))), text);
  });

  test("splices the missing timestamp after the brace, without re-serializing", () => {
    const text = '{"n":12345678901234567890,"a":[1,2]}';
    assert.equal(source(decoder().decode(record(text))), `{"@timestamp":"${ISO}","n":12345678901234567890,"a":[1,2]}`);
  });

  test("handles empty objects", () => {
    assert.equal(source(decoder().decode(record("{}"))), `{"@timestamp":"${ISO}"}`);
    assert.deepEqual(doc(decoder().decode(record("  { \t }  "))), { "@timestamp": ISO });
  });

  test("handles leading whitespace", () => {
    const result = decoder().decode(record(' \t {"a":1}'));
    assert.equal(source(result), `{"@timestamp":"${ISO}","a":1}`);
  });

  test("pretty-printed JSON becomes one line without any other change", () => {
    const text = '{\r\n  "@timestamp": "x",\n  "a": {\n    "b": "line\\nbreak"\n  }\n}\n';
    const out = source(decoder().decode(record(text)));
    assert.equal(out, text.replace(/[\r\n]/g, " "));
    assert.deepEqual(JSON.parse(out), JSON.parse(text));
  });

  test("pretty-printed JSON with a timestamp to add", () => {
    const text = '\n{\n  "a": 1\n}\n';
    assert.deepEqual(doc(decoder().decode(record(text))), { "@timestamp": ISO, a: 1 });
  });

  test("does not add the timestamp when the top-level field exists (even null)", () => {
    for (const text of ['{"@timestamp":null}', '{"a":1,"@timestamp":"2020"}']) {
      assert.equal(source(decoder().decode(record(text))), text);
    }
  });

  test("adds it when the field only exists nested", () => {
    assert.deepEqual(doc(decoder().decode(record('{"x":{"@timestamp":1}}'))), { "@timestamp": ISO, x: { "@timestamp": 1 } });
  });

  test("honours a custom timestamp field and escapes its name", () => {
    const result = decoder({ timestampField: 'ev"ent' }).decode(record('{"a":1}'));
    assert.deepEqual(doc(result), { 'ev"ent': ISO, a: 1 });
  });
});

describe("decoder: JSON objects as bytes", () => {
  test("an unchanged object is the record's own bytes, not a copy", () => {
    const value = Buffer.from('{"@timestamp":"t","a":1}');
    assert.equal(action(decoder().decode(record(value))).source, value);
  });

  test("added fields are spliced in without copying the record's bytes", () => {
    const value = Buffer.from('{"a":1}');
    const spliced = action(decoder().decode(record(value))).source;
    assert.ok(spliced !== undefined && typeof spliced === "object" && isSpliced(spliced));
    assert.equal(spliced.head, `{"@timestamp":"${ISO}",`);
    assert.equal(spliced.rest.buffer, value.buffer, "a view of the record's value");
    assert.equal(spliced.rest.toString(), '"a":1}');
  });

  test("line breaks are blanked in a copy: the record's value is left alone", () => {
    const value = Buffer.from('{"@timestamp":"t",\n"a":1}\r\n');
    const before = Buffer.from(value);
    assert.equal(source(decoder().decode(record(value))), '{"@timestamp":"t", "a":1}  ');
    assert.deepEqual(value, before);
    assert.equal(source(decoder().decode(record('{\n"a":"é"}'))), `{"@timestamp":"${ISO}", "a":"é"}`);
  });

  test("a top-level key written with escapes is found (JSON.parse decides)", () => {
    const text = '{"\\u0040timestamp":"t","k\\u0061fka":1}';
    assert.equal(source(decoder({ metadataField: "kafka" }).decode(record(text))), text);
    const other = '{"\\u0041":1}';
    assert.equal(source(decoder().decode(record(other))), `{"@timestamp":"${ISO}",${other.slice(1)}`);
  });

  test("a nested field or a string value with the name does not count", () => {
    const text = '{"a":{"@timestamp":1},"b":"@timestamp","c":["@timestamp"]}';
    assert.equal(source(decoder().decode(record(text))), `{"@timestamp":"${ISO}",${text.slice(1)}`);
  });

  test("what JSON.parse refuses is wrapped, whatever it starts with", () => {
    for (const text of ['{"a":01}', '{"a":1,}', '{"a":"\t"}', "\ufeff{}", '{"a":1}{}', '{"a":[1}']) {
      assert.deepEqual(doc(decoder().decode(record(text))), { "@timestamp": ISO, message: text }, text);
    }
  });
});

describe("decoder: wrapped values", () => {
  test("plain text, trailing newline trimmed", () => {
    assert.deepEqual(doc(decoder().decode(record("hello world\n"))), { "@timestamp": ISO, message: "hello world" });
    assert.deepEqual(doc(decoder().decode(record("a line\r\n"))), { "@timestamp": ISO, message: "a line" });
    assert.deepEqual(doc(decoder().decode(record("two\nlines"))), { "@timestamp": ISO, message: "two\nlines" });
    assert.deepEqual(doc(decoder().decode(record("  quoted \"text\" \\ \t"))), { "@timestamp": ISO, message: '  quoted "text" \\ \t' });
  });

  test("JSON scalars keep their raw text", () => {
    const cases: [string, string][] = [["42", "42"], ['"str"\n', '"str"'], ["true", "true"], ["null", "null"], ["1e400", "1e400"]];
    for (const [text, message] of cases) {
      assert.deepEqual(doc(decoder().decode(record(text))), { "@timestamp": ISO, message }, text);
    }
  });

  test("JSON arrays keep their raw text", () => {
    assert.deepEqual(doc(decoder().decode(record(' [1, {"a":2}]'))), { "@timestamp": ISO, message: ' [1, {"a":2}]' });
  });

  test("invalid JSON, even starting with a brace", () => {
    for (const text of ['{"a":', "{not json}", '{"a":1} trailing']) {
      assert.deepEqual(doc(decoder().decode(record(text))), { "@timestamp": ISO, message: text }, text);
    }
  });

  test("empty value", () => {
    assert.deepEqual(doc(decoder().decode(record(""))), { "@timestamp": ISO, message: "" });
  });

  test("invalid UTF-8 keeps the exact bytes in base64", () => {
    const bytes = Buffer.from([0xff, 0xfe, 0x41, 0x0a, 0x00, 0xc3]);
    const out = doc(decoder().decode(record(bytes)));
    assert.equal(out.message, "\ufffd\ufffdA\n\u0000\ufffd");
    assert.equal(typeof out.message_base64, "string");
    assert.deepEqual(Buffer.from(out.message_base64 as string, "base64"), bytes);
  });

  test("invalid UTF-8 starting with a brace is wrapped, not indexed as is", () => {
    const bytes = Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xff]), Buffer.from('"}')]);
    const out = doc(decoder().decode(record(bytes)));
    assert.deepEqual(Buffer.from(out.message_base64 as string, "base64"), bytes);
    assert.equal(out.a, undefined);
  });

  test("custom message field names both fields", () => {
    const out = doc(decoder({ messageField: "log" }).decode(record(Buffer.from([0x80]))));
    assert.deepEqual(Object.keys(out).sort(), ["@timestamp", "log", "log_base64"]);
  });

  test("a binary value is held as the record's own bytes until the body is written, with the same document as text and base64", () => {
    const bytes = Buffer.concat([Buffer.from([0xff, 0x00, 0x22, 0x5c]), Buffer.alloc(16 * 1024, 0x9f), Buffer.from("\r\n")]);
    const raw = action(decoder().decode(record(bytes))).source;
    assert.ok(raw !== undefined && typeof raw === "object" && isSpliced(raw), "a spliced source, not a string");
    assert.equal(raw.rest, bytes, "no copy and no string per record");
    const written = sourceBytes(raw);
    assert.equal(written.length, sourceByteLength(raw));
    const text = bytes.subarray(0, bytes.length - 2).toString("utf8");
    assert.equal(written.toString("utf8"), `{"@timestamp":"${ISO}","message":${JSON.stringify(text)},"message_base64":"${bytes.toString("base64")}"}`);
  });

  test("no timestamp in the wrapper when addTimestamp is false", () => {
    assert.equal(source(decoder({ addTimestamp: false }).decode(record("hi"))), '{"message":"hi"}');
  });
});

describe("decoder: ids and operations", () => {
  test("coordinates by default", () => {
    const a = action(decoder().decode(record("{}", { key: Buffer.from("k") })));
    assert.equal(a.id, "orders-3-42");
    assert.equal(a.op, "index");
    assert.equal(a.index, "orders");
  });

  test("key strategy uses the UTF-8 key, base64 for binary keys", () => {
    const d = decoder({ idStrategy: "key" });
    assert.equal(action(d.decode(record("{}", { key: Buffer.from("user-é") }))).id, "user-é");
    assert.equal(action(d.decode(record("{}", { key: Buffer.from([0xff, 0x00]) }))).id, "/wA=");
  });

  test("key strategy falls back to coordinates without a key", () => {
    const d = decoder({ idStrategy: "key" });
    assert.equal(action(d.decode(record("{}"))).id, "orders-3-42");
    assert.equal(action(d.decode(record("{}", { key: Buffer.alloc(0) }))).id, "orders-3-42");
  });

  test("none lets Elasticsearch choose", () => {
    assert.equal(action(decoder({ idStrategy: "none" }).decode(record("{}", { key: Buffer.from("k") }))).id, undefined);
  });

  test("create op", () => {
    assert.equal(action(decoder({ opType: "create" }).decode(record("x"))).op, "create");
  });

  test("routes with the record timestamp", () => {
    const d = createDecoder({ router: createRouter({ template: "logs-{topic}-{yyyy.MM.dd}" }) });
    assert.equal(action(d.decode(record("x", { topic: "App" }))).index, "logs-app-2024.03.05");
  });

  test("a record without a usable timestamp is dated the epoch (index and field), so its redelivery is identical", () => {
    const d = createDecoder({ router: createRouter({ template: "{topic}-{yyyy.MM.dd}" }), metadataField: "kafka" });
    const result = d.decode(record('{"a":1}', { timestamp: -1 }));
    assert.equal(action(result).index, "orders-1970.01.01");
    const out = doc(result);
    assert.equal(out["@timestamp"], "1970-01-01T00:00:00.000Z");
    assert.equal((out.kafka as Record<string, unknown>).timestamp, undefined, "the metadata shows there was none");
    assert.deepEqual(d.decode(record('{"a":1}', { timestamp: -1 })), result);
  });

  test("key ids carry the offset as external version; other ids none", () => {
    const keyed = action(decoder({ idStrategy: "key" }).decode(record("{}", { key: Buffer.from("k1") })));
    assert.equal(keyed.version, "42");
    assert.equal(action(decoder({ idStrategy: "key" }).decode(record("{}"))).version, undefined, "keyless: coordinates, no version");
    assert.equal(action(decoder().decode(record("{}", { key: Buffer.from("k1") }))).version, undefined);
    assert.equal(action(decoder({ idStrategy: "none" }).decode(record("{}"))).version, undefined);
  });
});

describe("decoder: tombstones", () => {
  test("skipped by default", () => {
    assert.deepEqual(decoder().decode(record(null, { key: Buffer.from("k") })), { kind: "skip", reason: "tombstone" });
  });

  test("delete by key with the key strategy", () => {
    const d = decoder({ tombstones: "delete", idStrategy: "key" });
    assert.deepEqual(action(d.decode(record(null, { key: Buffer.from("k1") }))), {
      op: "delete",
      index: "orders",
      id: "k1",
      version: "42",
      source: undefined,
    });
  });

  test("delete without a key is skipped", () => {
    const d = decoder({ tombstones: "delete", idStrategy: "key" });
    assert.deepEqual(d.decode(record(null)), { kind: "skip", reason: "tombstone-no-key" });
    assert.deepEqual(d.decode(record(null, { key: Buffer.alloc(0) })), { kind: "skip", reason: "tombstone-no-key" });
  });

  test("delete with ids that are not keys is skipped", () => {
    for (const idStrategy of ["coordinates", "none"] as const) {
      const d = decoder({ tombstones: "delete", idStrategy });
      assert.deepEqual(d.decode(record(null, { key: Buffer.from("k") })), { kind: "skip", reason: "tombstone-ids-not-keys" });
    }
  });
});

describe("decoder: metadata", () => {
  const meta = decoder({ metadataField: "kafka" });

  test("adds topic, partition, offset, timestamp, key and headers", () => {
    const r = record('{"a":1}', {
      key: Buffer.from("k1"),
      headers: { trace: "abc", utf: Buffer.from("é"), bin: Buffer.from([0xff, 0x01]) },
    });
    assert.deepEqual(doc(meta.decode(r)), {
      "@timestamp": ISO,
      kafka: {
        topic: "orders",
        partition: 3,
        offset: 42,
        timestamp: ISO,
        key: "k1",
        headers: { trace: "abc", utf: "é" },
        headers_base64: { bin: "/wE=" },
      },
      a: 1,
    });
  });

  test("a null header value is JSON null; a repeated name is the array of its values, in order", () => {
    const r = record("{}", { headers: { gone: null, tags: [Buffer.from("a"), null, "b"], one: Buffer.from("x") } });
    const out = doc(meta.decode(r));
    assert.deepEqual(out.kafka, { topic: "orders", partition: 3, offset: 42, timestamp: ISO, headers: { gone: null, tags: ["a", null, "b"], one: "x" } });
  });

  test("a name with any non-UTF-8 value goes whole under headers_base64 (its values stay together and in order)", () => {
    const r = record("{}", { headers: { mixed: ["t", Buffer.from([0xff]), null], text: [Buffer.from("u"), "v"] } });
    const out = doc(meta.decode(r));
    assert.deepEqual(out.kafka, {
      topic: "orders", partition: 3, offset: 42, timestamp: ISO,
      headers: { text: ["u", "v"] },
      headers_base64: { mixed: ["dA==", "/w==", null] },
    });
  });

  test("any header name is a member of its own (quotes, an empty name, __proto__)", () => {
    const headers = Object.fromEntries([["__proto__", "p"], ["", "e"], ['q"uote', "q"]]);
    const text = source(meta.decode(record("{}", { headers })));
    assert.ok(text.includes('"headers":{"__proto__":"p","":"e","q\\"uote":"q"}'), text);
  });

  test("binary key goes to key_base64; no key, no headers fields", () => {
    const out = doc(meta.decode(record("{}", { key: Buffer.from([0x00, 0xff]) })));
    assert.deepEqual(out.kafka, { topic: "orders", partition: 3, offset: 42, timestamp: ISO, key_base64: "AP8=" });
    const plain = doc(meta.decode(record("{}")));
    assert.deepEqual(plain.kafka, { topic: "orders", partition: 3, offset: 42, timestamp: ISO });
  });

  test("offsets beyond 2^53 are written exactly", () => {
    const text = source(meta.decode(record("{}", { offset: "9223372036854775807" })));
    assert.ok(text.includes('"offset":9223372036854775807'), text);
  });

  test("only the metadata is spliced when the timestamp exists", () => {
    const out = source(meta.decode(record('{"@timestamp":"t"}')));
    assert.equal(out, `{"kafka":{"topic":"orders","partition":3,"offset":42,"timestamp":"${ISO}"},"@timestamp":"t"}`);
  });

  test("a document that has the field keeps its own", () => {
    const text = '{"@timestamp":"t","kafka":"mine"}';
    assert.equal(source(meta.decode(record(text))), text);
  });

  test("wrapped values get metadata too", () => {
    const out = doc(meta.decode(record("plain", { topic: 'we"ird' })));
    assert.deepEqual(out, {
      "@timestamp": ISO,
      kafka: { topic: 'we"ird', partition: 3, offset: 42, timestamp: ISO },
      message: "plain",
    });
  });
});

describe("decoder: routing by a document field", () => {
  const fallbacks: string[] = [];
  const routed = (): ReturnType<typeof createDecoder> =>
    createDecoder({ router: createRouter({ template: "logs-{field:service.name}", onFieldFallback: (_t, reason) => fallbacks.push(reason) }) });

  test("reads the field from the JSON object the decoder scans", () => {
    const d = routed();
    assert.equal(action(d.decode(record('{"service":{"name":"Checkout"},"a":1}'))).index, "logs-checkout");
    assert.equal(action(d.decode(record('{"service.name":"billing"}'))).index, "logs-billing");
    assert.equal(action(d.decode(record('{"service":{"name":"esc\\u0061ped"}}'))).index, "logs-escaped");
  });

  test("a missing field, a non-string field and a text record take the fallback", () => {
    fallbacks.length = 0;
    const d = routed();
    assert.equal(action(d.decode(record('{"a":1}'))).index, "logs-unknown");
    assert.equal(action(d.decode(record('{"service":{"name":42}}'))).index, "logs-unknown");
    assert.equal(action(d.decode(record("plain text line"))).index, "logs-unknown");
    assert.equal(action(d.decode(record('{"broken":'))).index, "logs-unknown");
    assert.deepEqual(fallbacks, ["missing", "not_string", "missing", "missing"]);
  });

  test("the document itself is unchanged", () => {
    const text = '{"@timestamp":"t","service":{"name":"x"}}';
    assert.equal(source(routed().decode(record(text))), text);
  });
});

describe("decoder: per-topic settings, pipelines and updates", () => {
  const settings = createTopicSettingsLookup(
    { valueFormat: "json", keyFormat: "json", indexTemplate: "{topic}", pipeline: "enrich", idStrategy: "coordinates", opType: "index" },
    { users: { idStrategy: "key", opType: "update" }, "/raw-.*/": { pipeline: "" } },
  );
  const d = createDecoder({ router: createRouter(), settingsFor: settings, tombstones: "delete" });

  test("the global pipeline goes on every write; a topic can turn it off", () => {
    assert.equal(action(d.decode(record('{"a":1}'))).pipeline, "enrich");
    assert.equal(action(d.decode(record('{"a":1}', { topic: "raw-x" }))).pipeline, undefined);
    assert.equal(action(createDecoder({ router: createRouter() }).decode(record('{"a":1}'))).pipeline, undefined);
  });

  test("update wraps the document in doc / doc_as_upsert, unversioned and ordered by key", () => {
    const a = action(d.decode(record('{"a":1}', { topic: "users", key: Buffer.from("u1") })));
    assert.equal(a.op, "update");
    assert.equal(a.id, "u1");
    assert.equal(a.version, undefined);
    assert.equal(a.orderedByKey, true);
    assert.equal(a.pipeline, undefined, "Elasticsearch runs no pipeline on updates");
    assert.deepEqual(doc(d.decode(record('{"a":1}', { topic: "users", key: Buffer.from("u1") }))), { doc: { "@timestamp": ISO, a: 1 }, doc_as_upsert: true });
    assert.deepEqual(doc(d.decode(record('{"@timestamp":"t"}', { topic: "users", key: Buffer.from("u1") }))), { doc: { "@timestamp": "t" }, doc_as_upsert: true });
    assert.deepEqual(doc(d.decode(record("text\n", { topic: "users", key: Buffer.from("u1") }))), { doc: { "@timestamp": ISO, message: "text" }, doc_as_upsert: true });
    assert.deepEqual(doc(d.decode(record(Buffer.from([0xff, 0x41]), { topic: "users", key: Buffer.from("u1") }))), {
      doc: { "@timestamp": ISO, message: "\ufffdA", message_base64: "/0E=" },
      doc_as_upsert: true,
    });
  });

  test("a keyless update updates its coordinates id", () => {
    assert.equal(action(d.decode(record('{"a":1}', { topic: "users" }))).id, "users-3-42");
  });

  test("a tombstone beside updates deletes unversioned, ordered by key; beside index writes, versioned", () => {
    const del = action(d.decode(record(null, { topic: "users", key: Buffer.from("u1") })));
    assert.deepEqual(del, { op: "delete", index: "users", id: "u1", orderedByKey: true, source: undefined });
    const keyed = createDecoder({ router: createRouter(), idStrategy: "key", tombstones: "delete" });
    assert.equal(action(keyed.decode(record(null, { key: Buffer.from("k") }))).version, "42");
  });

  test("a topic's per-topic value format decides how its records are read (an avro topic's JSON is not framed)", () => {
    const avro = createDecoder({ router: createRouter(), settingsFor: () => ({ ...settings("x"), valueFormat: "avro" }) });
    assert.throws(() => avro.decode(record('{"a":1}')), /^RecordDecodeError: value is not in the schema registry's wire format/);
  });
});
