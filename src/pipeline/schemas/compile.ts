/** A registry schema -> the reader for its format (compiled once per schema id). */
import { describeError, RecordDecodeError } from "../../errors.ts";
import { compileAvro } from "./avro.ts";
import { compileJsonSchema } from "./json-schema.ts";
import { compileProtobuf } from "./protobuf.ts";
import type { RegistryClient } from "./registry-client.ts";
import { FORMAT_OF_SCHEMA_TYPE, type RegistrySchema, type SchemaReader } from "./schema-reader.ts";

/**
 * The reader for `schema`. A schema the format's library cannot compile (an
 * unsupported feature, a broken schema) gives a reader that refuses every record with
 * `schema_unsupported`: fetching it again would not help, so its records take the
 * failure policy (and can be redriven once a newer worker reads it).
 */
export function compileSchema(schema: RegistrySchema, id: number): SchemaReader {
  const format = FORMAT_OF_SCHEMA_TYPE[schema.schemaType];
  try {
    switch (schema.schemaType) {
      case "AVRO":
        return compileAvro(schema);
      case "PROTOBUF":
        return compileProtobuf(schema);
      case "JSON":
        return compileJsonSchema(schema);
    }
  } catch (error) {
    const reason = `schema ${String(id)} (${schema.schemaType}) cannot be compiled: ${describeError(error)}`;
    return {
      format,
      read() {
        throw new RecordDecodeError("schema_unsupported", reason, error);
      },
    };
  }
}

/** Fetch by id, then compile: what the schema gate loads with. */
export function schemaLoader(client: RegistryClient): (id: number) => Promise<SchemaReader> {
  return async (id) => compileSchema(await client.schemaById(id), id);
}
