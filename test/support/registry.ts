/**
 * The tests' side of the schema registry: register a schema the way the Java
 * serializers do (POST /subjects/{subject}-value/versions, the answer's id), and frame
 * records in the Confluent wire format with that id, for Avro, Protobuf and JSON Schema.
 */
import avro from "avsc";
import protobuf from "protobufjs";
import { frameHeader, messageIndexBytes } from "../../src/pipeline/schemas/wire-format.ts";
import { REGISTRY_URL } from "./env.ts";

export type SchemaType = "AVRO" | "PROTOBUF" | "JSON";

export interface Reference {
  readonly name: string;
  readonly subject: string;
  readonly version: number;
}

/** Registers `schema` under `subject` (a new version, or the existing one's id) and returns its global id. */
export async function registerSchema(subject: string, schemaType: SchemaType, schema: string, references: readonly Reference[] = []): Promise<number> {
  const response = await fetch(`${REGISTRY_URL}/subjects/${encodeURIComponent(subject)}/versions`, {
    method: "POST",
    headers: { "content-type": "application/vnd.schemaregistry.v1+json" },
    body: JSON.stringify({ schemaType, schema, ...(references.length === 0 ? {} : { references }) }),
  });
  const body = (await response.json()) as { id?: number; message?: string };
  if (!response.ok || typeof body.id !== "number") throw new Error(`registering ${subject}: HTTP ${String(response.status)} ${body.message ?? ""}`);
  return body.id;
}

/** An Avro writer: `encode(value)` is the framed record a KafkaAvroSerializer would write. */
export async function avroWriter(subject: string, schema: object): Promise<{ id: number; type: avro.Type; encode(value: unknown): Buffer }> {
  const id = await registerSchema(subject, "AVRO", JSON.stringify(schema));
  const type = avro.Type.forSchema(schema as avro.Schema, { wrapUnions: "auto" });
  return { id, type, encode: (value) => Buffer.concat([frameHeader(id), type.toBuffer(value)]) };
}

/** A Protobuf writer for the message `messageName` of `proto` (its index path is written as KafkaProtobufSerializer does). */
export async function protobufWriter(subject: string, proto: string, messageName: string): Promise<{ id: number; type: protobuf.Type; encode(value: Record<string, unknown>): Buffer }> {
  const id = await registerSchema(subject, "PROTOBUF", proto);
  const parsed = protobuf.parse(proto, { keepCase: true });
  for (const file of parsed.imports ?? []) {
    const json = protobuf.common.get(file);
    if (json?.nested !== undefined) parsed.root.addJSON(json.nested);
  }
  parsed.root.resolveAll();
  const type = parsed.root.lookupType(messageName);
  const indexes = messageIndexes(parsed, type);
  return { id, type, encode: (value) => Buffer.concat([frameHeader(id), messageIndexBytes(indexes), type.encode(type.fromObject(value)).finish()]) };
}

/** The path of `type` among the file's messages: top-level index, then nested indexes. */
function messageIndexes(parsed: protobuf.IParserResult, type: protobuf.Type): number[] {
  const path: number[] = [];
  let node: protobuf.ReflectionObject = type;
  const scope = parsed.package === undefined ? parsed.root : parsed.root.lookup(parsed.package);
  while (node.parent !== null && node !== scope) {
    const parent: protobuf.Namespace = node.parent;
    const current = node;
    path.unshift(parent.nestedArray.filter((n) => n instanceof protobuf.Type).findIndex((n) => n === current));
    node = parent;
  }
  return path;
}

/** A JSON Schema writer: the JSON text after the frame, as KafkaJsonSchemaSerializer writes it. */
export async function jsonSchemaWriter(subject: string, schema: object): Promise<{ id: number; encode(value: unknown): Buffer }> {
  const id = await registerSchema(subject, "JSON", JSON.stringify(schema));
  return { id, encode: (value) => Buffer.concat([frameHeader(id), Buffer.from(JSON.stringify(value))]) };
}
