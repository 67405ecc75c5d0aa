/** The decoder with schema-registry formats: documents from decoded values, keys, and what fails how. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { RecordDecodeError } from "../../../src/errors.ts";
import { createDecoder, type DecodeResult, type DecoderOptions } from "../../../src/pipeline/decoder.ts";
import { sourceBytes, type BulkAction } from "../../../src/pipeline/document.ts";
import type { KafkaRecord } from "../../../src/pipeline/record.ts";
import { createRouter } from "../../../src/pipeline/router.ts";
import type { RecordFormat } from "../../../src/pipeline/schemas/record-format.ts";
import type { IdStrategy, TopicSettings } from "../../../src/pipeline/topic-settings.ts";
import type { SchemaReader } from "../../../src/pipeline/schemas/schema-reader.ts";
import { frameHeader, FRAME_BYTES } from "../../../src/pipeline/schemas/wire-format.ts";

const TS = Date.parse("2024-03-05T12:34:56.789Z");
const ISO = "2024-03-05T12:34:56.789Z";

/** Schema 1 reads `{"n": <payload byte>}` (avro), 2 the payload as JSON text (json-schema), 3 a string (avro), 4 fails. */
const readers = new Map<number, SchemaReader>([
  [1, { format: "avro", read: (b) => ({ n: b[FRAME_BYTES], at: "x" }) }],
  [2, { format: "json-schema", read: (b) => b.subarray(FRAME_BYTES) }],
  [3, { format: "avro", read: (b) => b.subarray(FRAME_BYTES).toString() }],
  [4, { format: "avro", read: () => { throw new RecordDecodeError("avro_decode_error", "does not decode against its Avro schema: boom"); } }],
  [5, { format: "protobuf", read: () => ({}) }],
]);

function framed(id: number, payload: string | number[]): Buffer {
  return Buffer.concat([frameHeader(id), typeof payload === "string" ? Buffer.from(payload) : Buffer.from(payload)]);
}

function record(value: Buffer | null, key: Buffer | null = null): KafkaRecord {
  return { topic: "orders", partition: 3, offset: "42", timestamp: TS, key, value, headers: {}, size: 1 };
}

function topicSettings(value: RecordFormat, key: RecordFormat, idStrategy: IdStrategy = "coordinates"): TopicSettings {
  return { valueFormat: value, keyFormat: key, indexTemplate: "{topic}", pipeline: "", idStrategy, opType: "index" };
}

function decoder(value: RecordFormat, key: RecordFormat = "json", options: Partial<DecoderOptions> = {}) {
  const settings = topicSettings(value, key, options.idStrategy);
  return createDecoder({ router: createRouter(), settingsFor: () => settings, schemas: { reader: (id) => readers.get(id) }, ...options });
}

function action(result: DecodeResult): BulkAction {
  assert.equal(result.kind, "document");
  return result.action;
}

function doc(result: DecodeResult): unknown {
  const raw = action(result).source;
  assert.ok(raw !== undefined);
  return JSON.parse(typeof raw === "string" ? raw : sourceBytes(raw).toString());
}

function failsWith(fn: () => unknown, errorType: string, message: RegExp): void {
  assert.throws(fn, (error: unknown) => error instanceof RecordDecodeError && error.errorType === errorType && message.test(error.message));
}

describe("decoder with registry formats", () => {
  test("a decoded object gets the added fields, a field it has is kept", () => {
    assert.deepEqual(doc(decoder("avro").decode(record(framed(1, [7])))), { "@timestamp": ISO, n: 7, at: "x" });
    const d = decoder("avro", "json", { timestampField: "at", metadataField: "kafka" });
    assert.deepEqual(doc(d.decode(record(framed(1, [7])))), { kafka: { topic: "orders", partition: 3, offset: 42, timestamp: ISO }, n: 7, at: "x" });
  });

  test("a value that is not an object is wrapped in the message field", () => {
    assert.deepEqual(doc(decoder("avro").decode(record(framed(3, "hello")))), { "@timestamp": ISO, message: "hello" });
  });

  test("JSON Schema payloads take the JSON path: their own bytes, spliced", () => {
    const result = decoder("json-schema").decode(record(framed(2, '{"a":{"b":12345678901234567890}}')));
    assert.equal(sourceBytes(action(result).source ?? "").toString(), `{"@timestamp":"${ISO}","a":{"b":12345678901234567890}}`);
  });

  test("auto: a known frame is decoded, anything else is read as JSON", () => {
    const d = decoder("auto");
    assert.deepEqual(doc(d.decode(record(framed(1, [1])))), { "@timestamp": ISO, n: 1, at: "x" });
    assert.deepEqual(doc(d.decode(record(Buffer.from('{"j":1}')))), { "@timestamp": ISO, j: 1 });
    const unknown = framed(99, [0xff]);
    assert.deepEqual(doc(d.decode(record(unknown))), { "@timestamp": ISO, message: "\u0000\u0000\u0000\u0000c\ufffd", message_base64: unknown.toString("base64") });
    assert.deepEqual(doc(d.decode(record(framed(5, [])))), { "@timestamp": ISO }, "auto takes any format's schema");
  });

  test("decoded keys: the document id (a string as itself, else its JSON) and the metadata key", () => {
    const d = decoder("avro", "avro", { idStrategy: "key", metadataField: "kafka" });
    const byString = action(d.decode(record(framed(1, [1]), framed(3, "order-9"))));
    assert.equal(byString.id, "order-9");
    assert.equal(byString.version, "42");
    const byObject = d.decode(record(framed(1, [1]), framed(1, [5])));
    assert.equal(action(byObject).id, '{"n":5,"at":"x"}');
    assert.deepEqual((doc(byObject) as { kafka: { key: unknown } }).kafka.key, { n: 5, at: "x" });
    const tombstone = action(createDecoder({ router: createRouter(), tombstones: "delete", settingsFor: () => topicSettings("avro", "avro", "key"), schemas: { reader: (id) => readers.get(id) } }).decode(record(null, framed(3, "order-9"))));
    assert.deepEqual([tombstone.op, tombstone.id], ["delete", "order-9"]);
    assert.equal(action(decoder("avro", "auto", { idStrategy: "key" }).decode(record(framed(1, [1]), Buffer.from("plain")))).id, "plain", "auto key without a frame: as today");
  });

  test("what fails says why: not framed, another format's schema, not decodable (key or value)", () => {
    failsWith(() => decoder("avro").decode(record(Buffer.from('{"a":1}'))), "schema_wire_format_error", /^value is not in the schema registry's wire format/);
    failsWith(() => decoder("protobuf").decode(record(framed(1, [1]))), "schema_type_mismatch", /value schema 1 is a avro schema; the topic is configured for protobuf/);
    failsWith(() => decoder("avro").decode(record(framed(4, []))), "avro_decode_error", /^value \(schema 4\) does not decode against its Avro schema: boom/);
    failsWith(() => decoder("avro", "avro").decode(record(framed(1, [1]), framed(4, []))), "avro_decode_error", /^key \(schema 4\)/);
    assert.throws(() => decoder("avro").decode(record(framed(77, []))), /value schema 77 is not loaded/, "the gate loads schemas first: a bug otherwise");
  });

  test("json topics are untouched by the lookup", () => {
    const result = decoder("json").decode(record(framed(1, [0xff])));
    assert.equal((doc(result) as { message_base64?: string }).message_base64, framed(1, [0xff]).toString("base64"));
  });
});
