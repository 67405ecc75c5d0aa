/**
 * How a record's key or value is encoded, per topic. The one list of format names: the
 * configuration (global keys, and per-topic sections) and the decoder take them from here.
 *
 * - `json`: today's behaviour: a JSON object is indexed as it is, anything else is
 *   wrapped as text (base64 beside it when it is not UTF-8).
 * - `avro`, `protobuf`, `json-schema`: the Confluent wire format (a zero byte, a 4-byte
 *   big-endian schema id, for Protobuf the message-index array, then the payload),
 *   decoded against the schema the registry holds under that id.
 * - `auto`: the wire format when the magic byte is there and the registry knows the id;
 *   `json` otherwise.
 */
export const RECORD_FORMATS = ["json", "avro", "protobuf", "json-schema", "auto"] as const;

export type RecordFormat = (typeof RECORD_FORMATS)[number];

/** The formats whose records are framed with a schema id and need the registry. */
export type RegistryFormat = Exclude<RecordFormat, "json" | "auto">;

export interface TopicFormats {
  readonly value: RecordFormat;
  readonly key: RecordFormat;
}

/**
 * Topic -> formats. Built once in the composition root (global keys, later per-topic
 * overrides); called for every record, so implementations answer from a map or a constant.
 */
export type FormatLookup = (topic: string) => TopicFormats;

export const JSON_FORMATS: TopicFormats = { value: "json", key: "json" };

/** Whether records in `format` may carry a schema id (and so need the registry). */
export function usesRegistry(format: RecordFormat): boolean {
  return format !== "json";
}

/** The same formats for every topic. */
export function fixedFormats(formats: TopicFormats): FormatLookup {
  return () => formats;
}
