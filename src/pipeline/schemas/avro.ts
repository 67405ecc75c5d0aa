/**
 * Avro records (avsc) read with the writer's schema from the registry, as the JSON an
 * Elasticsearch user expects: logical types become ISO-8601 dates and times, exact
 * decimals and uuids; bytes and fixed become base64; enums their symbols; unions the
 * plain value of their branch; longs exact (a plain number when it is safe).
 *
 * Everything is done by avsc while it reads (logical types, a long type, unwrapped
 * unions), so a record is one `decode` and one JSON.stringify later; only schemas with
 * ambiguous unions (two records, int and long...), which avsc reads wrapped, get a
 * compiled unwrapping pass.
 */
import avro from "avsc";
import { RecordDecodeError } from "../../errors.ts";
import { decimalText, exactNumber, exactNumberText, int64Json, isoDate, isoFromUnits, isoMillis, isoTimeOfDay, uuidText } from "./json-values.ts";
import type { RegistrySchema, SchemaReader } from "./schema-reader.ts";
import { FRAME_BYTES } from "./wire-format.ts";

type AvroSchema = avro.Schema;

/** Longs as read from the 8 little-endian bytes avsc unpacks: exact, a plain number when safe. */
const JSON_LONG = avro.types.LongType.__with({
  fromBuffer: (buf: Buffer) => int64Json(buf.readUInt32LE(0), buf.readInt32LE(4), false),
  toBuffer: (value: unknown) => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(BigInt(exactNumberText(value) ?? String(value)));
    return buf;
  },
  fromJSON: (value: unknown) => value,
  toJSON: (value: unknown) => value,
  isValid: (value: unknown) => typeof value === "number" || exactNumberText(value) !== undefined,
  compare: (a: number, b: number) => (a === b ? 0 : a < b ? -1 : 1),
});

/** A long as read by JSON_LONG, as a number or (beyond 2^53) a bigint. */
function longValue(value: unknown): number | bigint {
  const text = exactNumberText(value);
  return text === undefined ? (value as number) : BigInt(text);
}

/** Base class: read-only logical types (the worker never writes Avro). */
class ReadOnlyLogicalType extends avro.types.LogicalType {
  protected override _fromValue(value: unknown): unknown {
    return value;
  }
  protected override _toValue(value: unknown): unknown {
    return value;
  }
  protected override _resolve(type: avro.Type): unknown {
    return type.typeName === this.underlyingType.typeName ? (value: unknown) => this._fromValue(value) : undefined;
  }
}

class TimestampMillis extends ReadOnlyLogicalType {
  protected override _fromValue(value: unknown): unknown {
    return typeof value === "number" ? (isoMillis(value) ?? value) : value;
  }
}

class LocalTimestampMillis extends ReadOnlyLogicalType {
  protected override _fromValue(value: unknown): unknown {
    return typeof value === "number" ? (isoMillis(value)?.slice(0, -1) ?? value) : value;
  }
}

/** timestamp-micros and timestamp-nanos (and their local- forms: no zone). */
function unitsTimestamp(unitsPerMs: number, digits: 6 | 9, local: boolean): typeof ReadOnlyLogicalType {
  return class extends ReadOnlyLogicalType {
    protected override _fromValue(value: unknown): unknown {
      const iso = isoFromUnits(longValue(value), unitsPerMs, digits);
      if (iso === undefined) return value;
      return local ? iso.slice(0, -1) : iso;
    }
  };
}

class DateType extends ReadOnlyLogicalType {
  protected override _fromValue(value: unknown): unknown {
    return isoDate(value as number) ?? value;
  }
}

class TimeMillis extends ReadOnlyLogicalType {
  protected override _fromValue(value: unknown): unknown {
    return isoTimeOfDay(value as number, 0, 3) ?? value;
  }
}

class TimeMicros extends ReadOnlyLogicalType {
  protected override _fromValue(value: unknown): unknown {
    const micros = Number(longValue(value));
    const ms = Math.floor(micros / 1000);
    return isoTimeOfDay(ms, micros - ms * 1000, 6) ?? value;
  }
}

class DecimalType extends ReadOnlyLogicalType {
  readonly #scale: number;
  constructor(schema: AvroSchema, opts?: unknown) {
    super(schema, opts);
    this.#scale = (schema as { scale?: number }).scale ?? 0;
  }
  protected override _fromValue(value: unknown): unknown {
    return exactNumber(decimalText(value as Buffer, this.#scale));
  }
}

/** uuid on a string is the string; on fixed(16) (Avro 1.12) the dashed hex form. */
class UuidType extends ReadOnlyLogicalType {
  protected override _fromValue(value: unknown): unknown {
    return Buffer.isBuffer(value) ? uuidText(value) : value;
  }
}

const BASE64 = "kafka-es-transfer-base64";

class Base64Type extends ReadOnlyLogicalType {
  protected override _fromValue(value: unknown): unknown {
    return (value as Buffer).toString("base64");
  }
}

const LOGICAL_TYPES = {
  "timestamp-millis": TimestampMillis,
  "timestamp-micros": unitsTimestamp(1_000, 6, false),
  "timestamp-nanos": unitsTimestamp(1_000_000, 9, false),
  "local-timestamp-millis": LocalTimestampMillis,
  "local-timestamp-micros": unitsTimestamp(1_000, 6, true),
  "local-timestamp-nanos": unitsTimestamp(1_000_000, 9, true),
  date: DateType,
  "time-millis": TimeMillis,
  "time-micros": TimeMicros,
  decimal: DecimalType,
  uuid: UuidType,
  [BASE64]: Base64Type,
} as const;

const BYTES_LOGICAL_TYPES = new Set(["decimal", "uuid"]);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The schema prepared for avsc (a copy): every bytes and fixed type (outside decimal
 * and uuid) marked with the base64 logical type, so avsc hands base64 text instead of a
 * Buffer; a long written as an object without a logical type we read (`{"type":
 * "long"}`) turned into the name "long", so the registry's exact long type reads it.
 */
export function prepareSchema(schema: unknown): unknown {
  if (schema === "bytes") return { type: "bytes", logicalType: BASE64 };
  if (Array.isArray(schema)) return schema.map(prepareSchema);
  if (!isObject(schema)) return schema;
  const { type } = schema;
  if (typeof type !== "string") return { ...schema, type: prepareSchema(type) };
  switch (type) {
    case "record":
    case "error":
      return { ...schema, fields: (schema.fields as unknown[]).map((f) => (isObject(f) ? { ...f, type: prepareSchema(f.type) } : f)) };
    case "array":
      return { ...schema, items: prepareSchema(schema.items) };
    case "map":
      return { ...schema, values: prepareSchema(schema.values) };
    case "bytes":
    case "fixed":
      return typeof schema.logicalType === "string" && BYTES_LOGICAL_TYPES.has(schema.logicalType) ? schema : { ...schema, logicalType: BASE64 };
    case "long":
      return typeof schema.logicalType === "string" && Object.hasOwn(LOGICAL_TYPES, schema.logicalType) ? schema : "long";
    default:
      return schema;
  }
}

/**
 * Makes the long under a logical type (timestamp-micros...) the exact long type too:
 * avsc builds a logical type's underlying type from the same schema object, a second
 * time; the first time the hook lets the logical type be made.
 */
function longUnderLogicalTypes(): (schema: unknown) => avro.Type | undefined {
  const seen = new WeakSet<object>();
  return (schema) => {
    if (!isObject(schema) || schema.type !== "long") return undefined;
    if (seen.has(schema)) return JSON_LONG;
    seen.add(schema);
    return undefined;
  };
}

type Unwrap = (value: unknown) => unknown;

/**
 * For types that avsc reads as wrapped unions ({"Branch": value}), a function that
 * replaces each wrapped union by its branch's value, in place; undefined for a type
 * with none inside (nothing to do). Recursive named types are followed once.
 */
interface Slot {
  fn: Unwrap | undefined;
  building: boolean;
}

function unwrapper(type: avro.Type, seen = new Map<avro.Type, Slot>()): Unwrap | undefined {
  const known = seen.get(type);
  if (known !== undefined) {
    // A type that contains itself: its function is known only once built, so look it up then.
    return known.building ? (value) => (known.fn === undefined ? value : known.fn(value)) : known.fn;
  }
  const slot: Slot = { fn: undefined, building: true };
  seen.set(type, slot);
  slot.fn = buildUnwrapper(type, seen);
  slot.building = false;
  return slot.fn;
}

function buildUnwrapper(type: avro.Type, seen: Map<avro.Type, Slot>): Unwrap | undefined {
  const t = type as avro.Type & { types?: avro.Type[]; fields?: { name: string; type: avro.Type }[]; itemsType?: avro.Type; valuesType?: avro.Type };
  if (t.typeName === "union:wrapped" && t.types !== undefined) {
    const branches = new Map(t.types.map((branch) => [branch.branchName ?? "", unwrapper(branch, seen)]));
    return (value) => {
      if (value === null || typeof value !== "object") return value;
      const name = Object.keys(value)[0] ?? "";
      const inner = (value as Record<string, unknown>)[name];
      const fn = branches.get(name);
      return fn === undefined ? inner : fn(inner);
    };
  }
  if (t.fields !== undefined) {
    const fields: { name: string; fn: Unwrap }[] = [];
    for (const field of t.fields) {
      const fn = unwrapper(field.type, seen);
      if (fn !== undefined) fields.push({ name: field.name, fn });
    }
    if (fields.length === 0) return undefined;
    return (value) => {
      const record = value as Record<string, unknown>;
      for (const { name, fn } of fields) record[name] = fn(record[name]);
      return record;
    };
  }
  const inner = t.itemsType ?? t.valuesType;
  const fn = inner === undefined ? undefined : unwrapper(inner, seen);
  if (fn === undefined) return undefined;
  if (t.itemsType !== undefined) return (value) => (value as unknown[]).map(fn);
  return (value) => {
    const map = value as Record<string, unknown>;
    for (const key of Object.keys(map)) map[key] = fn(map[key]);
    return map;
  };
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new Error(`${what} is not JSON`, { cause: error });
  }
}

/** The avsc type for a registry schema; referenced schemas first, into the same registry of named types. */
function compileType(schema: RegistrySchema, wrapUnions: "never" | "auto"): avro.Type {
  const registry: Record<string, avro.Type> = { long: JSON_LONG };
  const options = { registry, logicalTypes: LOGICAL_TYPES, wrapUnions, typeHook: longUnderLogicalTypes() };
  const define = (s: RegistrySchema): avro.Type => {
    for (const reference of s.references) define(reference.schema);
    return avro.Type.forSchema(prepareSchema(parseJson(s.schema, "the Avro schema")) as AvroSchema, options);
  };
  return define(schema);
}

export function compileAvro(schema: RegistrySchema): SchemaReader {
  let type: avro.Type;
  let unwrap: Unwrap | undefined;
  try {
    type = compileType(schema, "never");
  } catch (error) {
    // Ambiguous unions (two records, int and long...) cannot be read unwrapped by avsc.
    if (!(error instanceof Error) || !error.message.startsWith("ambiguous unwrapped union")) throw error;
    type = compileType(schema, "auto");
    unwrap = unwrapper(type);
  }
  return {
    format: "avro",
    read(framed: Buffer): unknown {
      let decoded: { value: unknown; offset: number };
      try {
        decoded = type.decode(framed, FRAME_BYTES);
      } catch (error) {
        throw new RecordDecodeError("avro_decode_error", `does not decode against its Avro schema: ${error instanceof Error ? error.message : String(error)}`, error);
      }
      if (decoded.offset < 0) throw new RecordDecodeError("avro_decode_error", "does not decode against its Avro schema: the record ends too early");
      if (decoded.offset !== framed.length) {
        throw new RecordDecodeError("avro_decode_error", `does not decode against its Avro schema: ${String(framed.length - decoded.offset)} bytes left after the record`);
      }
      return unwrap === undefined ? decoded.value : unwrap(decoded.value);
    },
  };
}

