/**
 * Reading a framed key or value with the schema its id names, for the decoder: the
 * configured format is checked against the schema's type, and every failure becomes a
 * RecordDecodeError saying which part of the record and why.
 */
import { RecordDecodeError } from "../../errors.ts";
import type { RecordFormat } from "./record-format.ts";
import type { SchemaLookup } from "./schema-reader.ts";
import { frameSchemaId } from "./wire-format.ts";

/** A decoded key: `id` for the document id (a string key as itself, anything else as its JSON), `json` for the metadata field. */
export interface DecodedKey {
  readonly id: string;
  readonly json: string;
}

/**
 * The record part `bytes` read with its schema: a JSON-ready value, or a Buffer of JSON
 * text (JSON Schema payloads). Undefined when `format` is `auto` and the bytes are not
 * a frame the registry knows: they are read as JSON then.
 */
export function readFramed(schemas: SchemaLookup, bytes: Buffer, format: RecordFormat, part: "key" | "value"): unknown {
  const id = frameSchemaId(bytes);
  const reader = id > 0 ? schemas.reader(id) : undefined;
  if (reader === undefined) {
    if (format === "auto") return undefined;
    if (id < 0) {
      throw new RecordDecodeError("schema_wire_format_error", `${part} is not in the schema registry's wire format (magic byte 0, then a schema id), as ${format} records are`);
    }
    // The gate loads every schema before the record reaches the decoder.
    throw new Error(`${part} schema ${String(id)} is not loaded`);
  }
  if (format !== "auto" && reader.format !== format) {
    throw new RecordDecodeError("schema_type_mismatch", `${part} schema ${String(id)} is a ${reader.format} schema; the topic is configured for ${format}`);
  }
  try {
    return reader.read(bytes);
  } catch (error) {
    if (!(error instanceof RecordDecodeError)) throw error;
    throw new RecordDecodeError(error.errorType, `${part} (schema ${String(id)}) ${error.message}`, error.cause);
  }
}

/** The key read with its schema, or undefined for a key read as bytes (no key, `auto` without a known frame). */
export function readKey(schemas: SchemaLookup, key: Buffer | null, format: RecordFormat): DecodedKey | undefined {
  if (key === null || key.length === 0) return undefined;
  let value = readFramed(schemas, key, format, "key");
  if (value === undefined) return undefined;
  if (Buffer.isBuffer(value)) value = JSON.parse(value.toString("utf8"));
  const json = JSON.stringify(value);
  return { id: typeof value === "string" ? value : json, json };
}
