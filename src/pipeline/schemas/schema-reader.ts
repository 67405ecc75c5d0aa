/**
 * A schema compiled for reading: what the decoder asks for, by schema id, on every
 * framed record. Compiled once per id (schema-cache.ts keeps them), so that a record
 * costs the format library's decode and nothing else.
 */
import type { RegistryFormat } from "./record-format.ts";

/** The registry's schema types, as the Confluent API names them (absent = AVRO). */
export type SchemaType = "AVRO" | "PROTOBUF" | "JSON";

/** A schema as the registry serves it, with the schemas it references resolved. */
export interface RegistrySchema {
  readonly schemaType: SchemaType;
  readonly schema: string;
  /** Referenced schemas (Avro named types, Protobuf imports, JSON Schema $refs), by the name they are referenced with. */
  readonly references: readonly NamedSchema[];
}

export interface NamedSchema {
  readonly name: string;
  readonly schema: RegistrySchema;
}

export interface SchemaReader {
  readonly format: RegistryFormat;
  /**
   * The record in `framed` (magic byte and schema id included) as a JSON-ready value:
   * JSON.stringify of it is the document. For JSON Schema, the validated payload bytes
   * themselves (a Buffer: they are JSON already). Throws a RecordDecodeError when the
   * record does not decode against the schema.
   */
  read(framed: Buffer): unknown;
}

export const FORMAT_OF_SCHEMA_TYPE: Readonly<Record<SchemaType, RegistryFormat>> = {
  AVRO: "avro",
  PROTOBUF: "protobuf",
  JSON: "json-schema",
};

/** The compiled schemas the decoder reads with: a Map lookup, never a fetch. */
export interface SchemaLookup {
  /** The reader for `id` when it is loaded; undefined otherwise (the gate loads it before the record is decoded). */
  reader(id: number): SchemaReader | undefined;
}
