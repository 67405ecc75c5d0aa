/**
 * What decoding costs per record in each value format: the bench's ~1 KiB log event as
 * json, as Avro, as Protobuf and as JSON Schema (all three framed as the Java
 * serializers write them), through the worker's own decoder with the schemas compiled
 * as the worker compiles them (no registry: the schema gate's part is a Map lookup),
 * in CPU µs per record (one thread, best of the rounds). `make bench-hot-path` prints
 * it; also runnable alone: `node test/bench/format-cost.ts`.
 */
import protobuf from "protobufjs";
import { createDecoder, type DecoderOptions } from "../../src/pipeline/decoder.ts";
import type { KafkaRecord } from "../../src/pipeline/record.ts";
import { createRouter } from "../../src/pipeline/router.ts";
import { compileSchema } from "../../src/pipeline/schemas/compile.ts";
import type { RecordFormat } from "../../src/pipeline/schemas/record-format.ts";
import type { SchemaReader, SchemaType } from "../../src/pipeline/schemas/schema-reader.ts";
import { frameHeader, messageIndexBytes } from "../../src/pipeline/schemas/wire-format.ts";
import { avroValue, BENCH_AVRO_SCHEMA } from "./avro.ts";
import { jsonRecord } from "./data.ts";

const PROTO = `syntax = "proto3";
package bench;
message LogEvent {
  message Log { string level = 1; string logger = 2; }
  message Service { string name = 1; string version = 2; string environment = 3; }
  message Host { string name = 1; string ip = 2; }
  message Cloud { string region = 1; }
  message Id { string id = 1; }
  message Request { string method = 1; }
  message Response { int32 status_code = 1; int64 bytes = 2; }
  message Http { Request request = 1; Response response = 2; }
  message Url { string path = 1; }
  message Ip { string ip = 1; }
  message UserAgent { string original = 1; }
  message Event { int64 duration = 1; string dataset = 2; int64 sequence = 3; }
  string timestamp = 1;
  Log log = 2; Service service = 3; Host host = 4; Cloud cloud = 5; Id trace = 6; Id span = 7;
  Http http = 8; Url url = 9; Ip client = 10; Id user = 11; UserAgent user_agent = 12; Event event = 13;
  string message = 14;
}`;

const JSON_SCHEMA = {
  type: "object",
  required: ["@timestamp", "message"],
  properties: {
    "@timestamp": { type: "string" },
    log: { type: "object", properties: { level: { type: "string" }, logger: { type: "string" } } },
    service: { type: "object", properties: { name: { type: "string" }, version: { type: "string" } } },
    http: { type: "object", properties: { response: { type: "object", properties: { status_code: { type: "integer" }, bytes: { type: "integer" } } } } },
    event: { type: "object", properties: { duration: { type: "integer" }, sequence: { type: "integer" } } },
    message: { type: "string" },
  },
};

type Format = Exclude<RecordFormat, "auto">;
export const FORMATS: readonly Format[] = ["json", "avro", "protobuf", "json-schema"];

const SCHEMAS: Readonly<Record<Exclude<Format, "json">, { id: number; type: SchemaType; text: string }>> = {
  avro: { id: 1, type: "AVRO", text: JSON.stringify(BENCH_AVRO_SCHEMA) },
  protobuf: { id: 2, type: "PROTOBUF", text: PROTO },
  "json-schema": { id: 3, type: "JSON", text: JSON.stringify(JSON_SCHEMA) },
};

const protoType = protobuf.parse(PROTO, { keepCase: true }).root.lookupType("bench.LogEvent");

function protoValue(i: number, size: number): Buffer {
  const { "@timestamp": timestamp, ...rest } = JSON.parse(jsonRecord(i, size)) as Record<string, unknown>;
  const message = protoType.fromObject({ timestamp, ...rest });
  return Buffer.concat([frameHeader(SCHEMAS.protobuf.id), messageIndexBytes([0]), protoType.encode(message).finish()]);
}

/** Record i of the bench in `format`, as it sits in Kafka. */
export function formatValue(format: Format, i: number, size: number): Buffer {
  switch (format) {
    case "json":
      return Buffer.from(jsonRecord(i, size));
    case "avro":
      return avroValue(i, size, SCHEMAS.avro.id);
    case "protobuf":
      return protoValue(i, size);
    case "json-schema":
      return Buffer.concat([frameHeader(SCHEMAS["json-schema"].id), Buffer.from(jsonRecord(i, size))]);
  }
}

export interface FormatCost {
  readonly format: Format;
  readonly valueBytes: number;
  readonly microsPerRecord: number;
}

function cpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

/** The decoder's format options for `format`, with the bench's schemas compiled as the worker compiles them. */
export function formatDecoderOptions(format: Format): Pick<DecoderOptions, "settingsFor" | "schemas"> {
  const readers = new Map<number, SchemaReader>(Object.values(SCHEMAS).map((s) => [s.id, compileSchema({ schemaType: s.type, schema: s.text, references: [] }, s.id)]));
  const settings = { valueFormat: format, keyFormat: "json", indexTemplate: "{topic}", pipeline: "", idStrategy: "coordinates", opType: "index" } as const;
  return { settingsFor: () => settings, schemas: { reader: (id) => readers.get(id) } };
}

/** CPU µs per record of `decoder.decode` (the document built, serialized) in each format. */
export function formatCosts(records = 20_000, size = 1024, rounds = 5): FormatCost[] {
  return FORMATS.map((format) => {
    const decoder = createDecoder({ router: createRouter({ template: "{topic}" }), ...formatDecoderOptions(format) });
    const values = Array.from({ length: records }, (_, i) => formatValue(format, i, size));
    const batch: KafkaRecord[] = values.map((value, i) => ({ topic: "t", partition: 0, offset: String(i), timestamp: 1_700_000_000_000 + i, key: null, value, headers: {}, size: value.length }));
    let best = Number.POSITIVE_INFINITY;
    for (let round = 0; round < rounds + 1; round++) {
      const started = cpuMicros();
      for (const record of batch) decoder.decode(record);
      // The first round warms up the compiled code paths.
      if (round > 0) best = Math.min(best, cpuMicros() - started);
    }
    return { format, valueBytes: values.reduce((a, v) => a + v.length, 0) / values.length, microsPerRecord: best / records };
  });
}

export function formatCostTable(costs: readonly FormatCost[]): string {
  const lines = ["| format | value bytes | decode µs/record (CPU) |", "|---|--:|--:|"];
  for (const c of costs) lines.push(`| ${c.format} | ${c.valueBytes.toFixed(0)} | ${c.microsPerRecord.toFixed(2)} |`);
  return lines.join("\n");
}

if (import.meta.main) {
  process.stdout.write(`decode cost per format (the bench's log event; decoder.decode, document serialized):\n${formatCostTable(formatCosts())}\n`);
}
