/**
 * How a record's key or value is encoded, per topic (names from pipeline/value-format.ts,
 * shared with the per-topic settings).
 *
 * - `json`: today's behaviour: a JSON object is indexed as it is, anything else is
 *   wrapped as text (base64 beside it when it is not UTF-8).
 * - `avro`, `protobuf`, `json-schema`: the Confluent wire format (a zero byte, a 4-byte
 *   big-endian schema id, for Protobuf the message-index array, then the payload),
 *   decoded against the schema the registry holds under that id.
 * - `auto`: the wire format when the magic byte is there and the registry knows the id;
 *   `json` otherwise.
 */
import { VALUE_FORMATS, type ValueFormat } from "../value-format.ts";

/** The one list (pipeline/value-format.ts), under the name this folder uses. */
export const RECORD_FORMATS = VALUE_FORMATS;

export type RecordFormat = ValueFormat;

/** The formats whose records are framed with a schema id and need the registry. */
export type RegistryFormat = Exclude<RecordFormat, "json" | "auto">;

/** A topic's formats: the same names as its TopicSettings, so a topic-settings lookup is a FormatLookup. */
export interface TopicFormats {
  readonly valueFormat: RecordFormat;
  readonly keyFormat: RecordFormat;
}

/**
 * Topic -> formats. Built once in the composition root (the per-topic settings lookup);
 * called for every record, so implementations answer from a map or a constant.
 */
export type FormatLookup = (topic: string) => TopicFormats;

export const JSON_FORMATS: TopicFormats = { valueFormat: "json", keyFormat: "json" };

/** Whether records in `format` may carry a schema id (and so need the registry). */
export function usesRegistry(format: RecordFormat): boolean {
  return format !== "json";
}

/** The same formats for every topic. */
export function fixedFormats(formats: TopicFormats): FormatLookup {
  return () => formats;
}
