/** The three format readers on records encoded by the same libraries, as the Java serializers frame them. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import avro from "avsc";
import protobuf from "protobufjs";
import { RecordDecodeError } from "../../../../src/errors.ts";
import { compileAvro } from "../../../../src/pipeline/schemas/avro.ts";
import { compileSchema } from "../../../../src/pipeline/schemas/compile.ts";
import { compileJsonSchema } from "../../../../src/pipeline/schemas/json-schema.ts";
import { compileProtobuf } from "../../../../src/pipeline/schemas/protobuf.ts";
import type { RegistrySchema, SchemaType } from "../../../../src/pipeline/schemas/schema-reader.ts";
import { frameHeader, messageIndexBytes } from "../../../../src/pipeline/schemas/wire-format.ts";

function registrySchema(schemaType: SchemaType, schema: string | object, references: RegistrySchema["references"] = []): RegistrySchema {
  return { schemaType, schema: typeof schema === "string" ? schema : JSON.stringify(schema), references };
}

function json(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}

function decodeError(fn: () => unknown, errorType: string, message?: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof RecordDecodeError, String(error));
    assert.equal(error.errorType, errorType);
    if (message !== undefined) assert.match(error.message, message);
    return true;
  });
}

describe("avro reader", () => {
  const avroFramed = (schema: object, value: unknown): Buffer => Buffer.concat([frameHeader(1), avro.Type.forSchema(schema as avro.Schema).toBuffer(value)]);

  test("logical types, bytes and fixed, unknown logical types read as their base type", () => {
    const schema = {
      type: "record",
      name: "R",
      fields: [
        { name: "tm", type: { type: "int", logicalType: "time-millis" } },
        { name: "tu", type: { type: "long", logicalType: "time-micros" } },
        { name: "lt", type: { type: "long", logicalType: "local-timestamp-millis" } },
        { name: "dec", type: { type: "fixed", name: "D", size: 3, logicalType: "decimal", precision: 6, scale: 1 } },
        { name: "uuid16", type: { type: "fixed", name: "U", size: 16, logicalType: "uuid" } },
        { name: "fx", type: { type: "fixed", name: "F", size: 2 } },
        { name: "odd", type: { type: "bytes", logicalType: "something-else" } },
        { name: "n", type: { type: "long", logicalType: "something-else" } },
        { name: "list", type: { type: "array", items: ["null", "bytes"] } },
      ],
    };
    const value = {
      tm: 3_723_004,
      tu: 3_723_004_005,
      lt: Date.UTC(2026, 0, 2),
      dec: Buffer.from([0, 0x04, 0xd2]),
      uuid16: Buffer.from("f81d4fae7dec11d0a76500a0c91e6bf6", "hex"),
      fx: Buffer.from([1, 2]),
      odd: Buffer.from("x"),
      n: 7,
      list: [null, Buffer.from([255])],
    };
    const reader = compileAvro(registrySchema("AVRO", schema));
    assert.deepEqual(json(reader.read(avroFramed(schema, value))), {
      tm: "01:02:03.004",
      tu: "01:02:03.004005",
      lt: "2026-01-02T00:00:00.000",
      dec: 123.4,
      uuid16: "f81d4fae-7dec-11d0-a765-00a0c91e6bf6",
      fx: "AQI=",
      odd: "eA==",
      n: 7,
      list: [null, "/w=="],
    });
  });

  test("ambiguous unions (two records, int and long) become the plain value of their branch, recursive types included", () => {
    const schema = {
      type: "record",
      name: "Node",
      fields: [
        { name: "v", type: ["int", "long", { type: "record", name: "A", fields: [{ name: "a", type: "string" }] }, { type: "record", name: "B", fields: [{ name: "b", type: "bytes" }] }] },
        { name: "children", type: { type: "array", items: "Node" } },
        { name: "byName", type: { type: "map", values: ["null", "A", "B"] } },
      ],
    };
    const writer = avro.Type.forSchema(schema as avro.Schema, { wrapUnions: true });
    const value = {
      v: { A: { a: "top" } },
      children: [{ v: { int: 5 }, children: [{ v: { B: { b: Buffer.from([1]) } }, children: [], byName: {} }], byName: { x: { A: { a: "deep" } }, y: null } }],
      byName: {},
    };
    const reader = compileAvro(registrySchema("AVRO", schema));
    assert.deepEqual(json(reader.read(Buffer.concat([frameHeader(1), writer.toBuffer(value)]))), {
      v: { a: "top" },
      children: [{ v: 5, children: [{ v: { b: "AQ==" }, children: [], byName: {} }], byName: { x: { a: "deep" }, y: null } }],
      byName: {},
    });
  });

  test("named types from referenced schemas", () => {
    const address = { type: "record", name: "Address", namespace: "x", fields: [{ name: "city", type: "string" }] };
    const person = { type: "record", name: "Person", namespace: "x", fields: [{ name: "home", type: "x.Address" }] };
    const reader = compileAvro(registrySchema("AVRO", person, [{ name: "x.Address", schema: registrySchema("AVRO", address) }]));
    const writer = avro.Type.forSchema({ ...person, fields: [{ name: "home", type: address }] } as avro.Schema);
    assert.deepEqual(json(reader.read(Buffer.concat([frameHeader(1), writer.toBuffer({ home: { city: "Oslo" } })]))), { home: { city: "Oslo" } });
  });

  test("a record that does not decode: avro_decode_error, saying why", () => {
    const schema = { type: "record", name: "R", fields: [{ name: "s", type: "string" }, { name: "e", type: { type: "enum", name: "E", symbols: ["A"] } }] };
    const reader = compileAvro(registrySchema("AVRO", schema));
    const good = avroFramed(schema, { s: "hello", e: "A" });
    decodeError(() => reader.read(good.subarray(0, good.length - 2)), "avro_decode_error", /ends too early/);
    decodeError(() => reader.read(Buffer.concat([good, Buffer.from([0])])), "avro_decode_error", /1 bytes left/);
    decodeError(() => reader.read(Buffer.concat([frameHeader(1), Buffer.from([2, 0x41, 4])])), "avro_decode_error");
  });

  test("a schema the library cannot compile refuses its records with schema_unsupported", () => {
    const reader = compileSchema(registrySchema("AVRO", { type: "record", name: "R", fields: [{ name: "x", type: "NoSuchType" }] }), 9);
    assert.equal(reader.format, "avro");
    decodeError(() => reader.read(frameHeader(9)), "schema_unsupported", /schema 9 \(AVRO\) cannot be compiled/);
  });
});

describe("protobuf reader", () => {
  const proto = `syntax = "proto3";
package p;
import "google/protobuf/struct.proto";
import "google/protobuf/field_mask.proto";
import "google/protobuf/wrappers.proto";
import "common.proto";
message First { int32 a = 1; }
message Second {
  message Inner { sint64 neg = 1; }
  c.Money price = 1;
  google.protobuf.Struct extra = 2;
  google.protobuf.FieldMask mask = 3;
  google.protobuf.BytesValue raw = 4;
  uint64 huge = 5;
  repeated Inner inner = 6;
  optional string maybe = 7;
}`;
  const common = 'syntax = "proto3";\npackage c;\nmessage Money { string currency = 1; int64 units = 2; }';
  const schema = registrySchema("PROTOBUF", proto, [{ name: "common.proto", schema: registrySchema("PROTOBUF", common) }]);
  const root = protobuf.parse(common, { keepCase: true }).root;
  protobuf.parse(proto, root, { keepCase: true });
  for (const file of ["google/protobuf/struct.proto", "google/protobuf/field_mask.proto", "google/protobuf/wrappers.proto"]) {
    const json = protobuf.common.get(file);
    if (json?.nested !== undefined) root.addJSON(json.nested);
  }
  root.resolveAll();
  const encode = (name: string, indexes: number[], value: Record<string, unknown>): Buffer => {
    const type = root.lookupType(name);
    return Buffer.concat([frameHeader(3), messageIndexBytes(indexes), type.encode(type.fromObject(value)).finish()]);
  };
  const reader = compileProtobuf(schema);

  test("imports from references, Struct, FieldMask, wrappers, uint64, nested messages, proto3 optional", () => {
    const value = {
      price: { currency: "EUR", units: 12 },
      extra: { fields: { k: { stringValue: "v" }, list: { listValue: { values: [{ numberValue: 1 }, { boolValue: true }, { nullValue: 0 }] } }, o: { structValue: { fields: {} } } } },
      mask: { paths: ["a.b", "c"] },
      raw: { value: Buffer.from([1, 2]) },
      huge: "18446744073709551615",
      inner: [{ neg: -5 }],
    };
    assert.deepEqual(json(reader.read(encode("p.Second", [1], value))), {
      inner: [{ neg: -5 }],
      price: { currency: "EUR", units: 12 },
      extra: { k: "v", list: [1, true, null], o: {} },
      mask: "a.b,c",
      raw: "AQI=",
      huge: 18446744073709552000,
    });
    assert.match(JSON.stringify(reader.read(encode("p.Second", [1], value))), /"huge":18446744073709551615/, "exact uint64");
    assert.deepEqual((json(reader.read(encode("p.Second", [1], { maybe: "" }))) as { maybe?: string }).maybe, "", "a set optional field, even empty");
    assert.deepEqual(json(reader.read(encode("p.First", [0], { a: 3 }))), { a: 3 });
    assert.deepEqual(json(reader.read(encode("p.Second.Inner", [1, 0], { neg: "-9007199254740993" }))), { neg: -9007199254740992 }, "parsed back, a double");
    assert.match(JSON.stringify(reader.read(encode("p.Second.Inner", [1, 0], { neg: "-9007199254740993" }))), /-9007199254740993/);
  });

  test("a record that does not decode, or names no message: protobuf_decode_error", () => {
    decodeError(() => reader.read(Buffer.concat([frameHeader(3), messageIndexBytes([0]), Buffer.from([0x08])])), "protobuf_decode_error", /does not decode as p.First/);
    decodeError(() => reader.read(Buffer.concat([frameHeader(3), messageIndexBytes([5]), Buffer.from([])])), "protobuf_decode_error", /names no message/);
    decodeError(() => reader.read(Buffer.concat([frameHeader(3), Buffer.from([4, 2])])), "protobuf_decode_error", /its message index/);
  });
});

describe("json-schema reader", () => {
  const framed = (text: string): Buffer => Buffer.concat([frameHeader(5), Buffer.from(text)]);

  test("a valid record is its payload bytes; an invalid one says where", () => {
    const reader = compileJsonSchema(registrySchema("JSON", { type: "object", properties: { n: { type: "integer" } }, required: ["n"] }));
    const payload = reader.read(framed('{"n": 1, "extra": true}'));
    assert.ok(Buffer.isBuffer(payload));
    assert.equal(payload.toString(), '{"n": 1, "extra": true}');
    decodeError(() => reader.read(framed('{"n": "one"}')), "json_schema_validation_error", /\/n must be integer/);
    decodeError(() => reader.read(framed("{}")), "json_schema_validation_error", /the document must have required property 'n'/);
    decodeError(() => reader.read(framed("{nope")), "json_schema_decode_error", /is not JSON/);
  });

  test("the draft follows $schema (2020-12 prefixItems), references by name", () => {
    const reader = compileJsonSchema(registrySchema("JSON", { $schema: "https://json-schema.org/draft/2020-12/schema", type: "array", prefixItems: [{ type: "string" }], items: false }));
    assert.ok(Buffer.isBuffer(reader.read(framed('["a"]'))));
    decodeError(() => reader.read(framed('["a", 1]')), "json_schema_validation_error");
    const withRef = compileJsonSchema(registrySchema("JSON", { type: "object", properties: { who: { $ref: "person.json" } } }, [
      { name: "person.json", schema: registrySchema("JSON", { type: "object", required: ["name"] }) },
    ]));
    assert.ok(Buffer.isBuffer(withRef.read(framed('{"who": {"name": "a"}}'))));
    decodeError(() => withRef.read(framed('{"who": {}}')), "json_schema_validation_error");
  });
});
