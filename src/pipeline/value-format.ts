/**
 * The formats a record's value (and key) can be read in. `json` is the decoder's own
 * (a JSON object indexed as its bytes, anything else wrapped as a message); `avro`,
 * `protobuf` and `json-schema` are the Confluent schema-registry wire format (a zero
 * byte, a 4-byte schema id, the encoded record); `auto` takes the registry framing when
 * the magic byte and a known id say so, JSON otherwise. One list, for the configuration
 * (global and per topic) and the decoder alike.
 */
export const VALUE_FORMATS = ["json", "avro", "protobuf", "json-schema", "auto"] as const;

export type ValueFormat = (typeof VALUE_FORMATS)[number];

export function isValueFormat(value: unknown): value is ValueFormat {
  return typeof value === "string" && (VALUE_FORMATS as readonly string[]).includes(value);
}
