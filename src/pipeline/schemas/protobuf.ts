/**
 * Protobuf records (protobufjs) read with the registry's .proto schema, as the JSON an
 * Elasticsearch user expects: field names as written in the schema, enums as their
 * names, bytes as base64, 64-bit integers exact (a plain number when safe), every field
 * present (proto3 leaves defaults off the wire: 0, "" and false are values to search
 * for), a oneof as its one set field, and the well-known types in their proto3 JSON
 * form: Timestamp as an ISO-8601 string, Duration as "1.5s", wrappers as their value,
 * Struct, Value and ListValue as plain JSON, FieldMask as "a,b".
 *
 * protobufjs decodes into message objects and converts them with its generated
 * `toObject`; the well-known types plug into that through its `wrappers` table and
 * 64-bit integers through the Long class it creates them with (a subclass with toJSON).
 * Both are process-wide settings of protobufjs, made once here: nothing else in the
 * worker uses protobufjs.
 */
import protobuf from "protobufjs";
import { RecordDecodeError } from "../../errors.ts";
import { int64Json, isoWithFraction } from "./json-values.ts";
import type { RegistrySchema, SchemaReader } from "./schema-reader.ts";
import { readMessageIndexes } from "./wire-format.ts";

type LongLike = { low: number; high: number; unsigned: boolean } | number;
type Converter = (this: protobuf.Type, message: protobuf.Message, options?: protobuf.IConversionOptions) => unknown;

const BaseLong = protobuf.util.Long as unknown as new (low: number, high: number, unsigned: boolean) => { low: number; high: number; unsigned: boolean };
/** The Long protobufjs makes int64 fields of, serialized by JSON.stringify as an exact number. */
class JsonLong extends BaseLong {
  toJSON(): unknown {
    return int64Json(this.low, this.high, this.unsigned);
  }
}
protobuf.util.Long = JsonLong;
protobuf.configure();

function toNumber(value: LongLike | undefined): number {
  if (value === undefined) return 0;
  return typeof value === "number" ? value : (value.unsigned ? value.high >>> 0 : value.high) * 4294967296 + (value.low >>> 0);
}

/** proto3 JSON of a Timestamp: RFC 3339 UTC with 0, 3, 6 or 9 fraction digits, as needed. */
function timestampJson(message: { seconds?: LongLike; nanos?: number }): string | number {
  const seconds = toNumber(message.seconds);
  const nanos = message.nanos ?? 0;
  const ms = seconds * 1000 + Math.floor(nanos / 1e6);
  const subMillis = nanos % 1e6;
  const iso = subMillis === 0 ? isoWithFraction(ms, 0, 3) : subMillis % 1000 === 0 ? isoWithFraction(ms, subMillis / 1000, 6) : isoWithFraction(ms, subMillis, 9);
  return iso ?? seconds;
}

/** proto3 JSON of a Duration: "-1.5s", "3s", "0.000001s". */
function durationJson(message: { seconds?: LongLike; nanos?: number }): string {
  const seconds = toNumber(message.seconds);
  const nanos = message.nanos ?? 0;
  const negative = seconds < 0 || nanos < 0;
  const whole = Math.abs(seconds);
  const frac = Math.abs(nanos);
  if (frac === 0) return `${negative ? "-" : ""}${String(whole)}s`;
  const digits = String(frac).padStart(9, "0").replace(/(000)+$/, "");
  return `${negative ? "-" : ""}${String(whole)}.${digits}s`;
}

interface ValueMessage {
  kind?: string;
  numberValue?: number;
  stringValue?: string;
  boolValue?: boolean;
  structValue?: { fields?: Record<string, ValueMessage> };
  listValue?: { values?: ValueMessage[] };
}

function structJson(message: { fields?: Record<string, ValueMessage> }): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(message.fields ?? {})) out[key] = valueJson(value);
  return out;
}

function valueJson(message: ValueMessage): unknown {
  switch (message.kind) {
    case "numberValue":
      return message.numberValue;
    case "stringValue":
      return message.stringValue;
    case "boolValue":
      return message.boolValue;
    case "structValue":
      return structJson(message.structValue ?? {});
    case "listValue":
      return (message.listValue?.values ?? []).map(valueJson);
    default:
      return null;
  }
}

function wrap(name: string, toObject: Converter): void {
  protobuf.wrappers[`.google.protobuf.${name}`] = {
    fromObject(this: protobuf.Type, object: Record<string, unknown>) {
      return this.fromObject(object);
    },
    toObject: toObject as unknown as protobuf.WrapperToObjectConverter,
  };
}

wrap("Timestamp", (message) => timestampJson(message as { seconds?: LongLike; nanos?: number }));
wrap("Duration", (message) => durationJson(message as { seconds?: LongLike; nanos?: number }));
wrap("Struct", (message) => structJson(message as { fields?: Record<string, ValueMessage> }));
wrap("Value", (message) => valueJson(message as ValueMessage));
wrap("ListValue", (message) => ((message as { values?: ValueMessage[] }).values ?? []).map(valueJson));
wrap("FieldMask", (message) => ((message as { paths?: string[] }).paths ?? []).join(","));
for (const name of ["DoubleValue", "FloatValue", "Int64Value", "UInt64Value", "Int32Value", "UInt32Value", "BoolValue", "StringValue", "BytesValue"]) {
  wrap(name, function (this: protobuf.Type, message, options) {
    return (this.toObject(message, options) as { value?: unknown }).value;
  });
}

/** How every message is converted: the options above (see the module comment). */
const TO_OBJECT: protobuf.IConversionOptions = { enums: String, bytes: String, defaults: true, arrays: true, objects: true, oneofs: false };
const PARSE: protobuf.IParseOptions = { keepCase: true };

/** The well-known files protobufjs ships (google/protobuf/timestamp.proto...), added to a root when imported. */
function addWellKnown(root: protobuf.Root, imports: readonly string[] | undefined): void {
  for (const file of imports ?? []) {
    const json = (protobuf.common as unknown as { get(file: string): protobuf.INamespace | null }).get(file);
    if (json?.nested !== undefined) root.addJSON(json.nested);
  }
}

/** Parses `schema` and its references into `root`, references first; returns this file's parse result. */
function parseInto(root: protobuf.Root, schema: RegistrySchema, done: Set<string>): protobuf.IParserResult {
  for (const reference of schema.references) {
    if (done.has(reference.name) || protobuf.common.get(reference.name) !== null) continue;
    done.add(reference.name);
    parseInto(root, reference.schema, done);
  }
  const parsed = protobuf.parse(schema.schema, root, PARSE);
  addWellKnown(root, parsed.imports);
  return parsed;
}

/** The message types declared at the top of the file, in order (message index 0, 1, ...). */
function topLevelMessages(schema: RegistrySchema): string[] {
  const own = protobuf.parse(schema.schema, PARSE);
  const scope = own.package === undefined ? own.root : own.root.lookup(own.package);
  if (!(scope instanceof protobuf.Namespace)) return [];
  return scope.nestedArray.filter((n) => n instanceof protobuf.Type).map((t) => t.fullName);
}

function nestedMessages(type: protobuf.Type): protobuf.Type[] {
  return type.nestedArray.filter((n): n is protobuf.Type => n instanceof protobuf.Type);
}

export function compileProtobuf(schema: RegistrySchema): SchemaReader {
  const root = new protobuf.Root();
  parseInto(root, schema, new Set());
  root.resolveAll();
  const top = topLevelMessages(schema).map((name) => root.lookupType(name));
  if (top.length === 0) throw new Error("the Protobuf schema declares no message");
  /** Message type per index path ("0", "1,2"), found once. */
  const byPath = new Map<string, protobuf.Type>();

  const typeAt = (indexes: readonly number[]): protobuf.Type => {
    const path = indexes.join(",");
    let type = byPath.get(path);
    if (type !== undefined) return type;
    const [first = 0, ...rest] = indexes;
    type = top[first];
    for (const index of rest) type = type === undefined ? undefined : nestedMessages(type)[index];
    if (type === undefined) throw new RecordDecodeError("protobuf_decode_error", `the message index [${path}] names no message of the schema`);
    byPath.set(path, type);
    return type;
  };

  return {
    format: "protobuf",
    read(framed: Buffer): unknown {
      let type: protobuf.Type | undefined;
      try {
        const { indexes, payloadOffset } = readMessageIndexes(framed);
        type = typeAt(indexes);
        return type.toObject(type.decode(framed.subarray(payloadOffset)), TO_OBJECT);
      } catch (error) {
        if (error instanceof RecordDecodeError) throw error;
        const what = type === undefined ? "its message index" : type.fullName.slice(1);
        throw new RecordDecodeError("protobuf_decode_error", `does not decode as ${what}: ${error instanceof Error ? error.message : String(error)}`, error);
      }
    },
  };
}
