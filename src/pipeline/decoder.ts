/**
 * KafkaRecord -> bulk action. Every value decodes to something (nothing throws):
 *
 * - A JSON object (valid UTF-8, first non-blank byte "{", exactly one valid JSON
 *   object: see json-scan.ts) is indexed as its original bytes, never re-serialized,
 *   so big integers, key order and number formatting survive. Missing fields
 *   (timestamp, metadata) are spliced in after the opening brace. A field the
 *   document already has is left alone.
 * - Anything else (text lines, JSON scalars and arrays, invalid JSON, binary) is
 *   wrapped as `{"<messageField>": "<text>"}`. Invalid UTF-8 also keeps the exact
 *   bytes as base64 in `<messageField>_base64`, so nothing is lost.
 * - A null value (tombstone) is skipped, or with `tombstones: "delete"` and
 *   `idStrategy: "key"` deletes the document whose id is the record key. With any
 *   other id strategy the document's id is not the key, so a delete cannot find it:
 *   the tombstone is skipped (reason "tombstone-ids-not-keys").
 *
 * - With a metadata field, the record's headers go in as `headers` / `headers_base64`
 *   (see headersFields): null values as null, repeated names as arrays.
 *
 * Caveat: with a date-based index template, a delete goes to the index of the
 * tombstone's own timestamp, not necessarily where the original document lives.
 *
 * Per topic (through one lookup, topic -> settings): the op type, id strategy, ingest
 * pipeline and value format. With key ids, `index` writes and deletes carry the offset
 * as an external version (a stale retry never overwrites a newer value); `update`
 * writes (`doc_as_upsert`) cannot be versioned, so they and their deletes are marked
 * `orderedByKey` and the sink sends them one at a time per document, in offset order.
 * A template routing by a field (`{field:...}`) gets the field from the same scan that
 * validates the JSON object: never a second parse.
 *
 * Topics whose value (or key) format is a schema-registry one have it read with the
 * schema its frame names (see schemas/): a decoded object is serialized once with the
 * same fields added; a JSON Schema payload takes the JSON path above. Such schemas are
 * loaded before the record gets here (schemas/schema-gate.ts).
 */
import { isUtf8 } from "node:buffer";
import { binaryRestJson, type BulkAction, type DocumentSource, type SplicedSource } from "./document.ts";
import { readField, type FieldPath, type FieldRead } from "./field-path.ts";
import { escapedLength } from "./json-string.ts";
import { anyKeyMaybe, CAPTURE_NONE, CAPTURE_STRING, createJsonObjectScanner, keyPresent, SCAN_INVALID, type JsonObjectScanner } from "./json-scan.ts";
import { isRepeatedHeader, type HeaderBytes, type KafkaRecord } from "./record.ts";
import type { Router } from "./router.ts";
import { effectiveTimestamp, isValidTimestamp } from "./timestamp.ts";
import type { IdStrategy, OpType, TopicSettings, TopicSettingsLookup } from "./topic-settings.ts";
import { readFramed, readKey, type DecodedKey } from "./schemas/framed-values.ts";
import type { RecordFormat } from "./schemas/record-format.ts";
import type { SchemaLookup } from "./schemas/schema-reader.ts";

export type { IdStrategy, OpType } from "./topic-settings.ts";
export type TombstonePolicy = "skip" | "delete";
export type SkipReason = "tombstone" | "tombstone-no-key" | "tombstone-ids-not-keys";

export type DecodeResult =
  | { readonly kind: "document"; readonly action: BulkAction }
  | { readonly kind: "skip"; readonly reason: SkipReason };

export interface DecoderOptions {
  readonly router: Router;
  /**
   * Each topic's settings (op type, id strategy, pipeline, value format); the router
   * takes its templates from the same lookup. When absent, every topic gets `opType`,
   * `idStrategy` and `pipeline` below.
   */
  readonly settingsFor?: TopicSettingsLookup;
  /** Default "index"; "create" for data streams (409 on an existing id); "update" merges (key ids only). */
  readonly opType?: OpType;
  /** Default "coordinates". */
  readonly idStrategy?: IdStrategy;
  /** Ingest pipeline; default "" (none). */
  readonly pipeline?: string;
  /** Top-level field set to the record timestamp when absent; default "@timestamp". */
  readonly timestampField?: string;
  /** Default true. */
  readonly addTimestamp?: boolean;
  /** Field receiving {topic, partition, offset, timestamp, key, headers}; "" (default) = off. */
  readonly metadataField?: string;
  /** Field holding a non-JSON-object value; default "message". */
  readonly messageField?: string;
  /** Default "skip". */
  readonly tombstones?: TombstonePolicy;
  /** The loaded schemas, needed when a topic's format uses the schema registry. */
  readonly schemas?: SchemaLookup;
}

const NO_SCHEMAS: SchemaLookup = { reader: () => undefined };

export interface Decoder {
  decode(record: KafkaRecord): DecodeResult;
}

const SKIP_TOMBSTONE: DecodeResult = { kind: "skip", reason: "tombstone" };
const SKIP_NO_KEY: DecodeResult = { kind: "skip", reason: "tombstone-no-key" };
const SKIP_IDS_NOT_KEYS: DecodeResult = { kind: "skip", reason: "tombstone-ids-not-keys" };

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TIMESTAMP_BIT = 1;
const METADATA_BIT = 2;

function isJsonBlank(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;
}

/** Whether `bytes` holds a raw CR or LF (`indexOf` is native: memchr speed). */
function hasLineBreak(bytes: Buffer): boolean {
  return bytes.indexOf(LF) >= 0 || bytes.indexOf(CR) >= 0;
}

/**
 * Bulk bodies are newline-delimited. In valid JSON a raw CR/LF can only be
 * insignificant whitespace (strings must escape them), so blanking them is exact.
 * Changes `bytes` in place: pass a copy, never a record's own value.
 */
function blankLineBreaks(bytes: Buffer): Buffer {
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === LF || bytes[i] === CR) bytes[i] = SPACE;
  }
  return bytes;
}

/** Index of the first non-blank byte of `bytes` at or after `from`, or -1. */
function firstNonBlankByte(bytes: Buffer, from: number): number {
  for (let i = from; i < bytes.length; i++) {
    if (!isJsonBlank(bytes[i] ?? 0)) return i;
  }
  return -1;
}

/** Length of `bytes` without its trailing CR/LF bytes. */
function lineEnd(bytes: Buffer): number {
  let end = bytes.length;
  while (end > 0 && (bytes[end - 1] === LF || bytes[end - 1] === CR)) end -= 1;
  return end;
}

/** `"name":"text"` when the bytes are valid UTF-8, else `"name_base64":"..."`. */
function bytesField(name: string, bytes: Buffer): string {
  return isUtf8(bytes)
    ? `${JSON.stringify(name)}:${JSON.stringify(bytes.toString("utf8"))}`
    : `${JSON.stringify(`${name}_base64`)}:${JSON.stringify(bytes.toString("base64"))}`;
}

function keyId(key: Buffer): string {
  return isUtf8(key) ? key.toString("utf8") : key.toString("base64");
}

/** A header value as JSON: its text, its bytes in base64 (`base64`), or null. */
function headerValueJson(value: HeaderBytes | null, base64: boolean): string {
  if (value === null) return "null";
  if (typeof value === "string") return JSON.stringify(base64 ? Buffer.from(value).toString("base64") : value);
  return JSON.stringify(value.toString(base64 ? "base64" : "utf8"));
}

function isTextHeader(value: HeaderBytes | null): boolean {
  return value === null || typeof value === "string" || isUtf8(value);
}

/**
 * The metadata's `headers` and `headers_base64` members. One entry per header name:
 * its value, or the array of its values when the record repeats the name (in the
 * record's order); a null value is JSON null. A name whose values are all valid UTF-8
 * (or null) goes under `headers` as text; a name with any other bytes goes whole under
 * `headers_base64`, every value in base64, so its values stay together and in order.
 */
function headersFields(headers: KafkaRecord["headers"]): string {
  let text = "";
  let binary = "";
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (value === undefined) continue;
    const repeated = isRepeatedHeader(value);
    const base64 = repeated ? !value.every(isTextHeader) : !isTextHeader(value);
    const json = repeated ? `[${value.map((v) => headerValueJson(v, base64)).join(",")}]` : headerValueJson(value, base64);
    const field = `${JSON.stringify(name)}:${json}`;
    if (base64) binary += `${binary === "" ? "" : ","}${field}`;
    else text += `${text === "" ? "" : ","}${field}`;
  }
  return (text === "" ? "" : `,"headers":{${text}}`) + (binary === "" ? "" : `,"headers_base64":{${binary}}`);
}

/** What the decoder needs of a topic's settings, resolved once per topic. */
interface TopicState {
  readonly valueFormat: RecordFormat;
  readonly keyFormat: RecordFormat;
  readonly opType: OpType;
  readonly idStrategy: IdStrategy;
  readonly pipeline: string | undefined;
  readonly orderedByKey: boolean;
  /** Validates JSON objects and, for a template routing by a field, finds that field. */
  readonly scanner: JsonObjectScanner;
  readonly fieldPath: FieldPath | undefined;
}

/** Topics come and go with pattern subscriptions: bound the cache. */
const MAX_CACHED_TOPICS = 10_000;
const UPSERT_TAIL = ',"doc_as_upsert":true}';

/** `{"doc": source, "doc_as_upsert": true}` around a source, without copying the record's bytes. */
function upsertSource(source: DocumentSource): DocumentSource {
  if (typeof source === "string") return `{"doc":${source}${UPSERT_TAIL}`;
  if (Buffer.isBuffer(source)) return { head: '{"doc":', rest: source, restBytes: source.length, tail: UPSERT_TAIL };
  return { ...source, head: `{"doc":${source.head}`, tail: `${source.tail ?? ""}${UPSERT_TAIL}` };
}

/** The string a scan captured, `null` for another value, undefined when the field is absent. */
function capturedField(scanner: JsonObjectScanner, value: Buffer): FieldRead {
  const { kind, start, end, escaped } = scanner.capture;
  if (kind === CAPTURE_NONE) return undefined;
  if (kind !== CAPTURE_STRING) return null;
  return escaped ? (JSON.parse(value.toString("utf8", start - 1, end + 1)) as string) : value.toString("utf8", start, end);
}

export function createDecoder(options: DecoderOptions): Decoder {
  const router = options.router;
  const timestampField = options.timestampField ?? "@timestamp";
  const addTimestamp = options.addTimestamp ?? true;
  const metadataField = options.metadataField ?? "";
  const messageField = options.messageField ?? "message";
  const tombstones = options.tombstones ?? "skip";
  const fixed: TopicSettings = {
    valueFormat: "json",
    keyFormat: "json",
    // Unused here: the router has its own templates.
    indexTemplate: "{topic}",
    opType: options.opType ?? "index",
    idStrategy: options.idStrategy ?? "coordinates",
    pipeline: options.pipeline ?? "",
  };
  const settingsFor = options.settingsFor ?? (() => fixed);
  const schemas = options.schemas ?? NO_SCHEMAS;

  // Key 0: the timestamp field, key 1: the metadata field (never found when "").
  const scanKeys = metadataField === "" ? [timestampField] : [timestampField, metadataField];
  const scanners = new Map<string, JsonObjectScanner>();
  function scannerFor(path: FieldPath | undefined): JsonObjectScanner {
    const id = path === undefined ? "" : path.join("\u0000");
    let scanner = scanners.get(id);
    if (scanner === undefined) {
      scanner = createJsonObjectScanner(scanKeys, path);
      scanners.set(id, scanner);
    }
    return scanner;
  }
  const states = new Map<string, TopicState>();
  let lastTopic: string | undefined;
  let lastState: TopicState | undefined;
  function stateOf(topic: string): TopicState {
    if (topic === lastTopic && lastState !== undefined) return lastState;
    let state = states.get(topic);
    if (state === undefined) {
      if (states.size >= MAX_CACHED_TOPICS) states.clear();
      const settings = settingsFor(topic);
      const fieldPath = router.fieldPath(topic);
      state = {
        valueFormat: settings.valueFormat,
        keyFormat: settings.keyFormat,
        opType: settings.opType,
        idStrategy: settings.idStrategy,
        pipeline: settings.pipeline === "" ? undefined : settings.pipeline,
        orderedByKey: settings.opType === "update",
        scanner: scannerFor(fieldPath),
        fieldPath,
      };
      states.set(topic, state);
    }
    lastTopic = topic;
    lastState = state;
    return state;
  }
  /** The routing field the last `source` call found (undefined: absent or not looked for). */
  let lastField: FieldRead;

  const timestampKey = JSON.stringify(timestampField);
  const metadataKey = JSON.stringify(metadataField);
  const messageKey = JSON.stringify(messageField);
  const messageBase64Key = JSON.stringify(`${messageField}_base64`);

  // Records of one batch often share a timestamp: keep the last ISO string.
  let lastMs = Number.NaN;
  let lastIso = "";
  function iso(ms: number): string {
    if (ms !== lastMs) {
      lastIso = new Date(ms).toISOString();
      lastMs = ms;
    }
    return lastIso;
  }

  /**
   * The write for a record: its id and, for key ids, the external version (the offset)
   * that keeps stale writes out. One object per record, built in place (no identity
   * object spread into it: this runs for every record).
   */
  function writeAction(record: KafkaRecord, state: TopicState, index: string, documentSource: DocumentSource, key: DecodedKey | undefined): BulkAction {
    const { opType, pipeline } = state;
    if (opType === "update") {
      // Key ids only (checked with the configuration); a keyless record updates its own coordinates id.
      const keyed = record.key !== null && record.key.length > 0;
      const id = keyed ? (key?.id ?? keyId(record.key)) : `${record.topic}-${String(record.partition)}-${record.offset}`;
      return { op: "update", index, id, orderedByKey: true, source: upsertSource(documentSource) };
    }
    // An empty key is no key: Elasticsearch refuses an empty _id.
    if (state.idStrategy === "key" && record.key !== null && record.key.length > 0) {
      const id = key?.id ?? keyId(record.key);
      return pipeline === undefined
        ? { op: opType, index, id, version: record.offset, source: documentSource }
        : { op: opType, index, id, version: record.offset, pipeline, source: documentSource };
    }
    const id = state.idStrategy === "none" ? undefined : `${record.topic}-${String(record.partition)}-${record.offset}`;
    return pipeline === undefined ? { op: opType, index, id, source: documentSource } : { op: opType, index, id, pipeline, source: documentSource };
  }

  function metadata(record: KafkaRecord, key: DecodedKey | undefined): string {
    // Offsets are int64 decimal strings: written as raw JSON numbers (exact, mapped as long).
    const offset = /^\d+$/.test(record.offset) ? record.offset : JSON.stringify(record.offset);
    let meta = `{"topic":${JSON.stringify(record.topic)},"partition":${JSON.stringify(record.partition)},"offset":${offset}`;
    if (isValidTimestamp(record.timestamp)) meta += `,"timestamp":${JSON.stringify(iso(record.timestamp))}`;
    if (key !== undefined) meta += `,"key":${key.json}`;
    else if (record.key !== null) meta += `,${bytesField("key", record.key)}`;
    meta += headersFields(record.headers);
    return `${meta}}`;
  }

  /**
   * The fields to add, comma-separated, without the surrounding braces ("" when none).
   * `has` tells which of the fields the document already has (TIMESTAMP_BIT, METADATA_BIT).
   */
  function extraFields(record: KafkaRecord, ts: number, has: number, key: DecodedKey | undefined): string {
    let fields = "";
    if (addTimestamp && (has & TIMESTAMP_BIT) === 0) {
      fields = `${timestampKey}:${JSON.stringify(iso(ts))}`;
    }
    if (metadataField !== "" && (has & METADATA_BIT) === 0) {
      fields += `${fields === "" ? "" : ","}${metadataKey}:${metadata(record, key)}`;
    }
    return fields;
  }

  /**
   * A value that is not UTF-8, wrapped: its text (with U+FFFD) in the message field and
   * its bytes in base64 beside it. Held as the record's bytes until the bulk body is
   * written (SplicedSource.binaryRest), not as strings several times their size.
   */
  function wrapBinary(record: KafkaRecord, ts: number, value: Buffer, key: DecodedKey | undefined): SplicedSource {
    const fields = extraFields(record, ts, 0, key);
    // The length is measured once here; the strings are garbage at once.
    const restBytes = Buffer.byteLength(binaryRestJson(value, messageBase64Key));
    return { head: `{${fields}${fields === "" ? "" : ","}${messageKey}:`, rest: value, binaryRest: messageBase64Key, restBytes, tail: "}" };
  }

  /**
   * A valid UTF-8 line wrapped without decoding it: the record's bytes (trailing line
   * break trimmed) are escaped straight into the bulk body, the same bytes `wrap`
   * would produce through two strings per record.
   */
  function wrapBytes(record: KafkaRecord, ts: number, value: Buffer, key: DecodedKey | undefined): SplicedSource {
    const fields = extraFields(record, ts, 0, key);
    const rest = value.subarray(0, lineEnd(value));
    return { head: `{${fields}${fields === "" ? "" : ","}${messageKey}:"`, rest, escapeRest: true, restBytes: escapedLength(rest), tail: '"}' };
  }

  /** Which of the added fields a JSON object already has at its top level. */
  function presentFields(value: Buffer, scanned: number): number {
    if (!anyKeyMaybe(scanned)) {
      return (keyPresent(scanned, 0) ? TIMESTAMP_BIT : 0) | (keyPresent(scanned, 1) ? METADATA_BIT : 0);
    }
    // A top-level key written with escapes might be one of ours: let JSON.parse decide.
    const doc = JSON.parse(value.toString("utf8")) as object;
    return (Object.hasOwn(doc, timestampField) ? TIMESTAMP_BIT : 0) | (metadataField !== "" && Object.hasOwn(doc, metadataField) ? METADATA_BIT : 0);
  }

  /**
   * A JSON object is passed on as its own bytes (never decoded to a string), or as
   * those bytes plus the fields to splice in after its opening brace (never copied
   * into a second per-record buffer).
   */
  function source(record: KafkaRecord, state: TopicState, value: Buffer, ts: number, key: DecodedKey | undefined): DocumentSource {
    const valid = isUtf8(value);
    const brace = valid ? firstNonBlankByte(value, 0) : -1;
    // The scanner validates without building the object: JSON.parse would allocate
    // every member only to see whether it is an object and which keys it has.
    const scanner = state.scanner;
    const scanned = brace >= 0 && value[brace] === OPEN_BRACE ? scanner.scanUtf8(value, brace) : SCAN_INVALID;
    lastField = undefined;
    if (scanned === SCAN_INVALID) return valid ? wrapBytes(record, ts, value, key) : wrapBinary(record, ts, value, key);
    if (state.fieldPath !== undefined) lastField = capturedField(scanner, value);

    const fields = extraFields(record, ts, presentFields(value, scanned), key);
    if (fields === "") return hasLineBreak(value) ? blankLineBreaks(Buffer.from(value)) : value;
    const empty = value[firstNonBlankByte(value, brace + 1)] === CLOSE_BRACE;
    // No copy: the body builder writes the head, then the record's bytes after the
    // brace (blanking raw line breaks there).
    const rest = value.subarray(brace + 1);
    return { head: `{${fields}${empty ? "" : ","}`, rest, restBytes: rest.length };
  }

  /**
   * A value read with its schema: an object is serialized once (JSON.stringify) with the
   * added fields spliced in after its brace; any other value (a schema of a primitive
   * type, an array) is wrapped in the message field. JSON text (JSON Schema) and `auto`
   * values without a known frame take the JSON path.
   */
  function registrySource(record: KafkaRecord, state: TopicState, value: Buffer, ts: number, key: DecodedKey | undefined): DocumentSource {
    const decoded = readFramed(schemas, value, state.valueFormat, "value");
    if (decoded === undefined) return source(record, state, value, ts, key);
    if (Buffer.isBuffer(decoded)) return source(record, state, decoded, ts, key);
    lastField = undefined;
    if (typeof decoded !== "object" || decoded === null || Array.isArray(decoded)) {
      const fields = extraFields(record, ts, 0, key);
      return `{${fields}${fields === "" ? "" : ","}${messageKey}:${JSON.stringify(decoded)}}`;
    }
    if (state.fieldPath !== undefined) lastField = readField(decoded, state.fieldPath);
    const has = (Object.hasOwn(decoded, timestampField) ? TIMESTAMP_BIT : 0) | (metadataField !== "" && Object.hasOwn(decoded, metadataField) ? METADATA_BIT : 0);
    const fields = extraFields(record, ts, has, key);
    const json = JSON.stringify(decoded);
    if (fields === "") return json;
    return json.length === 2 ? `{${fields}}` : `{${fields},${json.slice(1)}`;
  }

  function tombstone(record: KafkaRecord, state: TopicState, ts: number, key: DecodedKey | undefined): DecodeResult {
    if (tombstones === "skip") return SKIP_TOMBSTONE;
    if (state.idStrategy !== "key") return SKIP_IDS_NOT_KEYS;
    if (record.key === null || record.key.length === 0) return SKIP_NO_KEY;
    const index = router.route(record.topic, ts);
    const id = key?.id ?? keyId(record.key);
    // Beside updates, ordered like them; beside index writes, versioned like them (a
    // delete older than the document's value does not remove it).
    const action: BulkAction = state.orderedByKey
      ? { op: "delete", index, id, orderedByKey: true, source: undefined }
      : { op: "delete", index, id, version: record.offset, source: undefined };
    return { kind: "document", action };
  }

  return {
    decode(record: KafkaRecord): DecodeResult {
      // Deterministic for records without a timestamp (the epoch), so a redelivery is identical.
      const ts = effectiveTimestamp(record.timestamp);
      const state = stateOf(record.topic);
      const key = state.keyFormat === "json" ? undefined : readKey(schemas, record.key, state.keyFormat);
      if (record.value === null) return tombstone(record, state, ts, key);
      const documentSource = state.valueFormat === "json" ? source(record, state, record.value, ts, key) : registrySource(record, state, record.value, ts, key);
      const action = writeAction(record, state, router.route(record.topic, ts, lastField), documentSource, key);
      return { kind: "document", action };
    },
  };
}
