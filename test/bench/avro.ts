/**
 * The `avro` variant: the json variant's log events as Avro records in the Confluent
 * wire format (schema registered in the local registry, its id after the magic byte),
 * so its figures compare with json's on the same data. Avro names cannot start with
 * "@": the event time is `timestamp` (timestamp-millis), and the worker adds
 * "@timestamp" from the Kafka record as it does for any document without one.
 */
import avro from "avsc";
import { frameHeader } from "../../src/pipeline/schemas/wire-format.ts";
import { jsonRecord } from "./data.ts";

const record = (name: string, fields: [string, unknown][]): object => ({ type: "record", name, fields: fields.map(([n, type]) => ({ name: n, type })) });

/** The schema of the bench's log event (ECS-like nested records, as the json variant's objects). */
export const BENCH_AVRO_SCHEMA = {
  ...record("LogEvent", [
    ["timestamp", { type: "long", logicalType: "timestamp-millis" }],
    ["log", record("Log", [["level", "string"], ["logger", "string"]])],
    ["service", record("Service", [["name", "string"], ["version", "string"], ["environment", "string"]])],
    ["host", record("Host", [["name", "string"], ["ip", "string"]])],
    ["cloud", record("Cloud", [["region", "string"]])],
    ["trace", record("Trace", [["id", "string"]])],
    ["span", record("Span", [["id", "string"]])],
    ["http", record("Http", [["request", record("Request", [["method", "string"]])], ["response", record("Response", [["status_code", "int"], ["bytes", "long"]])]])],
    ["url", record("Url", [["path", "string"]])],
    ["client", record("Client", [["ip", "string"]])],
    ["user", record("User", [["id", "string"]])],
    ["user_agent", record("UserAgent", [["original", "string"]])],
    ["event", record("Event", [["duration", "long"], ["dataset", "string"], ["sequence", "long"]])],
    ["message", "string"],
  ]),
  namespace: "bench",
};

const TYPE = avro.Type.forSchema(BENCH_AVRO_SCHEMA as avro.Schema);
let schemaId: number | undefined;

/** Record i of the json variant as a JS object, the event time as `timestamp` (epoch ms). */
function event(i: number, size: number): Record<string, unknown> {
  const { "@timestamp": iso, ...rest } = JSON.parse(jsonRecord(i, size)) as Record<string, unknown>;
  return { timestamp: Date.parse(String(iso)), ...rest };
}

/** Registers the schema (once per run) and keeps its id for `avroValue`. */
export async function registerBenchAvro(registryUrl: string, subject: string): Promise<number> {
  const response = await fetch(`${registryUrl}/subjects/${encodeURIComponent(subject)}/versions`, {
    method: "POST",
    headers: { "content-type": "application/vnd.schemaregistry.v1+json" },
    body: JSON.stringify({ schema: JSON.stringify(BENCH_AVRO_SCHEMA) }),
  });
  const body = (await response.json()) as { id?: number; message?: string };
  if (!response.ok || typeof body.id !== "number") throw new Error(`registering the bench's Avro schema at ${registryUrl}: HTTP ${String(response.status)} ${body.message ?? ""}`);
  schemaId = body.id;
  return body.id;
}

/** Record i as the framed Avro bytes a KafkaAvroSerializer would write. */
export function avroValue(i: number, size: number, id = schemaId): Buffer {
  if (id === undefined) throw new Error("registerBenchAvro first");
  return Buffer.concat([frameHeader(id), TYPE.toBuffer(event(i, size))]);
}

/** The document the worker writes for record i (default settings, `timestampMs` the Kafka timestamp). */
export function avroDocument(i: number, size: number, timestampMs: number): string {
  const { timestamp, ...rest } = event(i, size);
  return JSON.stringify({ "@timestamp": new Date(timestampMs).toISOString(), timestamp: new Date(timestamp as number).toISOString(), ...rest });
}
