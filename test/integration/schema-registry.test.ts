/**
 * Avro, Protobuf and JSON Schema records in the Confluent wire format, produced the
 * way the Java serializers write them (schema registered in the real registry, its id
 * after the magic byte), indexed by the worker and checked field by field: logical
 * types and well-known types as ISO-8601 strings, exact int64 and decimals, enums as
 * names, unions and oneofs as plain fields, bytes as base64; a v2 schema with an added
 * field read alongside v1 records; keys decoded; `auto` telling framed records from JSON.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import avro from "avsc";
import { countDocuments, getSource } from "../support/elasticsearch.ts";
import { ES_NODE, REGISTRY_URL } from "../support/env.ts";
import { suiteFixture } from "../support/fixture.ts";
import { createTopics, produce, waitForCommittedAtEnd, type ProducedRecord } from "../support/kafka.ts";
import { frameHeader } from "../../src/pipeline/schemas/wire-format.ts";
import { avroWriter, jsonSchemaWriter, protobufWriter } from "../support/registry.ts";
import { WorkerProcess, withWorkers } from "../support/worker.ts";

const BASE_MS = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
const DAY = 20_455; // 2026-01-02
const BIG = 2n ** 60n;

/** The document's _source as Elasticsearch stores it, as text: exact numbers stay exact. */
async function rawSource(index: string, id: string): Promise<string> {
  const response = await fetch(`${ES_NODE}/${index}/_source/${encodeURIComponent(id)}`);
  assert.equal(response.status, 200, `document ${id} in ${index}`);
  return response.text();
}

/** Runs a worker with `env` on `topic` until everything is committed; returns it still running. */
async function drain(topic: string, groupId: string, env: Record<string, string>, expected: number, es: Parameters<typeof countDocuments>[0]): Promise<WorkerProcess> {
  const worker = new WorkerProcess({ KAFKA_TOPICS: topic, KAFKA_GROUP_ID: groupId, SCHEMA_REGISTRY_URL: REGISTRY_URL, ...env });
  await worker.ready();
  await waitForCommittedAtEnd(groupId, [topic], 90_000);
  assert.equal(await countDocuments(es, topic), expected, "every record indexed");
  assert.equal(await worker.metric("kafka_es_transfer_records_rejected_total"), 0, "nothing rejected");
  return worker;
}

/** A long type for the tests' Avro writer that takes bigints (avsc's own refuses longs beyond 2^53). */
const BIGINT_LONG = avro.types.LongType.__with({
  fromBuffer: (buf: Buffer) => buf.readBigInt64LE(0),
  toBuffer: (n: bigint | number) => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(BigInt(n));
    return buf;
  },
  fromJSON: (n: number) => BigInt(n),
  toJSON: (n: bigint) => Number(n),
  isValid: (n: unknown) => typeof n === "bigint" || Number.isInteger(n),
  compare: (a: bigint, b: bigint) => (a === b ? 0 : a < b ? -1 : 1),
});

function decimalBytes(unscaled: number): Buffer {
  const buf = Buffer.alloc(4);
  buf.writeInt32BE(unscaled);
  return buf;
}

describe("schema registry formats", () => {
  const { es, name } = suiteFixture("schemas");

  test("avro: logical types, enums, unions, bytes, exact longs, a v2 with an added field, decoded keys", async () => {
    const topic = `${name}-avro`;
    const line = { type: "record", name: "Line", fields: [{ name: "sku", type: "string" }, { name: "qty", type: "int" }] };
    const v1Fields = [
      { name: "id", type: "long" },
      { name: "big", type: "long" },
      { name: "status", type: { type: "enum", name: "Status", symbols: ["NEW", "PAID", "SHIPPED"] } },
      { name: "created", type: { type: "long", logicalType: "timestamp-millis" } },
      { name: "updated", type: { type: "long", logicalType: "timestamp-micros" } },
      { name: "day", type: { type: "int", logicalType: "date" } },
      { name: "amount", type: { type: "bytes", logicalType: "decimal", precision: 12, scale: 2 } },
      { name: "ref", type: { type: "string", logicalType: "uuid" } },
      { name: "note", type: ["null", "string"], default: null },
      { name: "payload", type: "bytes" },
      { name: "lines", type: { type: "array", items: line } },
      { name: "attrs", type: { type: "map", values: "string" } },
      {
        name: "payment",
        type: ["null", { type: "record", name: "Card", fields: [{ name: "last4", type: "string" }] }, { type: "record", name: "Iban", fields: [{ name: "iban", type: "string" }] }],
        default: null,
      },
    ];
    const v1 = { type: "record", name: "Order", namespace: "shop", fields: v1Fields };
    const v2 = { ...v1, fields: [...v1Fields, { name: "channel", type: "string", default: "web" }] };
    const subject = `${topic}-value`;
    const w1 = await avroWriter(subject, v1);
    const w2 = await avroWriter(subject, v2);
    assert.notEqual(w1.id, w2.id, "v2 is a new schema id");
    const keys = await avroWriter(`${topic}-key`, { type: "string" });
    const write1 = avro.Type.forSchema(v1 as avro.Schema, { registry: { long: BIGINT_LONG } });
    const write2 = avro.Type.forSchema(v2 as avro.Schema, { registry: { long: BIGINT_LONG } });

    const N = 40;
    const order = (i: number): Record<string, unknown> => ({
      id: BigInt(i),
      big: BIG + BigInt(i),
      status: ["NEW", "PAID", "SHIPPED"][i % 3],
      created: BASE_MS + i,
      updated: (BASE_MS + i) * 1000 + 123,
      day: DAY + (i % 2),
      amount: decimalBytes(i % 2 === 0 ? 12345 + i : -(5 + i)),
      ref: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
      note: i % 2 === 0 ? `note ${String(i)}` : null,
      payload: Buffer.from([i, 0xff, 0x00]),
      lines: [{ sku: `sku-${String(i)}`, qty: i }],
      attrs: { region: "eu" },
      payment: i % 3 === 0 ? null : i % 3 === 1 ? { "shop.Card": { last4: "4242" } } : { "shop.Iban": { iban: "DE00" } },
      ...(i >= N / 2 ? { channel: "app" } : {}),
    });
    const framed = (i: number): Buffer => {
      const [id, type] = i >= N / 2 && i % 2 === 0 ? [w2.id, write2] : [w1.id, write1];
      const value = order(i);
      if (type === write1) delete value.channel;
      return Buffer.concat([frameHeader(id), type.toBuffer(value)]);
    };
    await createTopics([topic], 1);
    await produce(topic, N, (i): ProducedRecord => ({ key: keys.encode(`order-${String(i)}`), value: framed(i), timestamp: String(BASE_MS) }), 1);

    let worker: WorkerProcess | undefined;
    await withWorkers(() => [worker], async () => {
      worker = await drain(topic, `${topic}-group`, { VALUE_FORMAT: "avro", KEY_FORMAT: "avro", DOC_ID_STRATEGY: "key", DOC_METADATA_FIELD: "kafka" }, N, es);
      const doc = async (i: number): Promise<Record<string, unknown>> => {
        const found = await getSource(es, topic, `order-${String(i)}`);
        assert.ok(found !== undefined, `order-${String(i)} indexed under its decoded key`);
        return found;
      };
      const d1 = await doc(1);
      assert.deepEqual(d1, {
        "@timestamp": new Date(BASE_MS).toISOString(),
        kafka: { topic, partition: 0, offset: 1, timestamp: new Date(BASE_MS).toISOString(), key: "order-1" },
        id: 1,
        big: Number(BIG + 1n),
        status: "PAID",
        created: "2026-01-02T03:04:05.679Z",
        updated: "2026-01-02T03:04:05.679123Z",
        day: "2026-01-03",
        amount: -0.06,
        ref: "00000000-0000-4000-8000-000000000001",
        note: null,
        payload: Buffer.from([1, 0xff, 0]).toString("base64"),
        lines: [{ sku: "sku-1", qty: 1 }],
        attrs: { region: "eu" },
        payment: { last4: "4242" },
      });
      const d2 = await doc(2);
      assert.equal(d2.amount, 123.47);
      assert.equal(d2.note, "note 2");
      assert.deepEqual(d2.payment, { iban: "DE00" });
      assert.equal(d2.status, "SHIPPED");
      assert.equal(d2.channel, undefined, "a v1 record has no channel");
      assert.match(await rawSource(topic, "order-1"), /"big":1152921504606846977[,}]/, "an int64 beyond 2^53 is exact in _source");
      const d22 = await doc(22);
      assert.equal(d22.channel, "app", "v2 record: the added field");
      const d23 = await doc(23);
      assert.equal(d23.channel, undefined, "v1 record after v2 ones: no such field");
      const mapping = await es.indices.getMapping({ index: topic });
      const props = mapping[topic]?.mappings.properties ?? {};
      for (const field of ["created", "updated", "day"]) assert.equal(props[field]?.type, "date", `${field} mapped as a date`);
      assert.equal((await worker.stop()).code, 0);
    });
  });

  test("protobuf: well-known types, enums, oneof, maps, nested messages, int64, a v2 with an added field", async () => {
    const topic = `${name}-proto`;
    const proto = (extra: string): string => `syntax = "proto3";
package shop.v1;
import "google/protobuf/timestamp.proto";
import "google/protobuf/duration.proto";
import "google/protobuf/wrappers.proto";
message Audit { string who = 1; }
message Order {
  enum Status { UNKNOWN = 0; PAID = 1; SHIPPED = 2; }
  message Line { string sku = 1; double qty = 2; }
  int64 id = 1;
  int64 big = 2;
  Status status = 3;
  google.protobuf.Timestamp created = 4;
  google.protobuf.Duration took = 5;
  google.protobuf.Int64Value maybe = 6;
  google.protobuf.StringValue note = 7;
  bytes payload = 8;
  oneof payment { string card = 9; string iban = 10; }
  repeated Line lines = 11;
  map<string, int32> counts = 12;
  uint32 zero = 13;${extra}
}`;
    const subject = `${topic}-value`;
    const w1 = await protobufWriter(subject, proto(""), "shop.v1.Order");
    const w2 = await protobufWriter(subject, proto("\n  string channel = 14;"), "shop.v1.Order");
    const lineWriter = await protobufWriter(subject, proto("\n  string channel = 14;"), "shop.v1.Order.Line");
    assert.equal(lineWriter.id, w2.id, "same schema, another message of it");
    const N = 30;
    const value = (i: number): Record<string, unknown> => ({
      id: i,
      big: (BIG + BigInt(i)).toString(),
      status: i % 2 === 0 ? "PAID" : "SHIPPED",
      created: { seconds: Math.floor(BASE_MS / 1000) + i, nanos: 678_000_000 + i * 1000 },
      took: { seconds: 1, nanos: 500_000_000 },
      ...(i % 2 === 0 ? { maybe: { value: 7 }, note: { value: "" } } : {}),
      payload: Buffer.from([i, 0xff]),
      ...(i % 2 === 0 ? { card: "4242" } : { iban: "DE00" }),
      lines: [{ sku: `sku-${String(i)}`, qty: 1.5 }],
      counts: { a: i },
      ...(i >= N / 2 ? { channel: "app" } : {}),
    });
    await createTopics([topic], 1);
    await produce(topic, N + 1, (i): ProducedRecord => ({
      value: i === N ? lineWriter.encode({ sku: "nested", qty: 2 }) : (i >= N / 2 ? w2 : w1).encode(value(i)),
      timestamp: String(BASE_MS),
    }), 1);
    let worker: WorkerProcess | undefined;
    await withWorkers(() => [worker], async () => {
      worker = await drain(topic, `${topic}-group`, { VALUE_FORMAT: "protobuf" }, N + 1, es);
      const d2 = await getSource(es, topic, `${topic}-0-2`);
      assert.deepEqual(d2, {
        "@timestamp": new Date(BASE_MS).toISOString(),
        lines: [{ sku: "sku-2", qty: 1.5 }],
        counts: { a: 2 },
        id: 2,
        big: Number(BIG + 2n),
        status: "PAID",
        created: "2026-01-02T03:04:07.678002Z",
        took: "1.500s",
        maybe: 7,
        note: "",
        payload: Buffer.from([2, 0xff]).toString("base64"),
        card: "4242",
        zero: 0,
      });
      const d3 = await getSource(es, topic, `${topic}-0-3`);
      assert.equal(d3?.iban, "DE00");
      assert.equal(d3.card, undefined, "only the oneof member that is set");
      assert.equal(d3.maybe, null, "an absent wrapper is null");
      assert.equal(d3.status, "SHIPPED");
      assert.match(await rawSource(topic, `${topic}-0-3`), /"big":1152921504606846979[,}]/);
      assert.equal((await getSource(es, topic, `${topic}-0-${String(N - 1)}`))?.channel, "app", "v2: the added field");
      assert.equal((await getSource(es, topic, `${topic}-0-1`))?.channel, undefined, "v1: none");
      assert.deepEqual(await getSource(es, topic, `${topic}-0-${String(N)}`), { "@timestamp": new Date(BASE_MS).toISOString(), sku: "nested", qty: 2 }, "a nested message by its message index");
      const props = (await es.indices.getMapping({ index: topic }))[topic]?.mappings.properties ?? {};
      assert.equal(props.created?.type, "date");
      assert.equal((await worker.stop()).code, 0);
    });
  });

  test("json-schema: documents indexed as produced, a v2 with an added property", async () => {
    const topic = `${name}-jsonschema`;
    const v1 = { $schema: "http://json-schema.org/draft-07/schema#", type: "object", properties: { id: { type: "integer" }, name: { type: "string" } }, required: ["id"] };
    const v2 = { ...v1, properties: { ...v1.properties, tags: { type: "array", items: { type: "string" } } } };
    const w1 = await jsonSchemaWriter(`${topic}-value`, v1);
    const w2 = await jsonSchemaWriter(`${topic}-value`, v2);
    const N = 20;
    await createTopics([topic], 1);
    await produce(topic, N, (i): ProducedRecord => ({
      value: i % 2 === 0 ? w1.encode({ id: i, name: `n${String(i)}`, nested: { big: 12345678901234567890n.toString() } }) : w2.encode({ id: i, name: `n${String(i)}`, tags: ["a", "b"] }),
      timestamp: String(BASE_MS),
    }), 1);
    let worker: WorkerProcess | undefined;
    await withWorkers(() => [worker], async () => {
      worker = await drain(topic, `${topic}-group`, { VALUE_FORMAT: "json-schema" }, N, es);
      assert.deepEqual(await getSource(es, topic, `${topic}-0-4`), { "@timestamp": new Date(BASE_MS).toISOString(), id: 4, name: "n4", nested: { big: "12345678901234567890" } });
      assert.deepEqual(await getSource(es, topic, `${topic}-0-5`), { "@timestamp": new Date(BASE_MS).toISOString(), id: 5, name: "n5", tags: ["a", "b"] });
      assert.equal((await worker.stop()).code, 0);
    });
  });

  test("auto: framed records decoded, JSON and text as today, an unknown id read as bytes", async () => {
    const topic = `${name}-auto`;
    const w = await avroWriter(`${topic}-value`, { type: "record", name: "Ping", fields: [{ name: "n", type: "int" }, { name: "at", type: { type: "long", logicalType: "timestamp-millis" } }] });
    const unknownFrame = Buffer.from([0, 0x7f, 0xff, 0xff, 0xf0, 1, 2, 3]);
    const values: Buffer[] = [w.encode({ n: 1, at: BASE_MS }), Buffer.from('{"n":2}'), Buffer.from("plain text line"), unknownFrame];
    await createTopics([topic], 1);
    await produce(topic, values.length, (i): ProducedRecord => ({ value: values[i] ?? null, timestamp: String(BASE_MS) }), 1);
    let worker: WorkerProcess | undefined;
    await withWorkers(() => [worker], async () => {
      worker = await drain(topic, `${topic}-group`, { VALUE_FORMAT: "auto" }, values.length, es);
      const ts = new Date(BASE_MS).toISOString();
      assert.deepEqual(await getSource(es, topic, `${topic}-0-0`), { "@timestamp": ts, n: 1, at: ts });
      assert.deepEqual(await getSource(es, topic, `${topic}-0-1`), { "@timestamp": ts, n: 2 });
      assert.deepEqual(await getSource(es, topic, `${topic}-0-2`), { "@timestamp": ts, message: "plain text line" });
      const unknown = await getSource(es, topic, `${topic}-0-3`);
      assert.equal(unknown?.message_base64, unknownFrame.toString("base64"), "an id the registry does not know: the bytes, as any binary value");
      assert.ok((await worker.metric("kafka_es_transfer_schema_fetches_total", { outcome: "not_found" })) >= 1);
      assert.equal((await worker.stop()).code, 0);
    });
  });
});
