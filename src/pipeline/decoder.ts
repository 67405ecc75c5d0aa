/**
 * KafkaRecord -> bulk action. Every value decodes to something (nothing throws):
 *
 * - A JSON object (valid UTF-8, first non-blank byte "{", parses to an object) is
 *   indexed as its original text, never re-serialized, so big integers, key order and
 *   number formatting survive. Missing fields (timestamp, metadata) are spliced in
 *   after the opening brace. A field the document already has is left alone.
 * - Anything else (text lines, JSON scalars and arrays, invalid JSON, binary) is
 *   wrapped as `{"<messageField>": "<text>"}`. Invalid UTF-8 also keeps the exact
 *   bytes as base64 in `<messageField>_base64`, so nothing is lost.
 * - A null value (tombstone) is skipped, or with `tombstones: "delete"` and
 *   `idStrategy: "key"` deletes the document whose id is the record key. With any
 *   other id strategy the document's id is not the key, so a delete cannot find it:
 *   the tombstone is skipped (reason "tombstone-ids-not-keys").
 *
 * Caveat: with a date-based index template, a delete goes to the index of the
 * tombstone's own timestamp, not necessarily where the original document lives.
 */
import { isUtf8 } from "node:buffer";
import type { BulkAction } from "./document.ts";
import type { KafkaRecord } from "./record.ts";
import type { Router } from "./router.ts";
import { effectiveTimestamp, isValidTimestamp } from "./timestamp.ts";

export type OpType = "index" | "create";
/**
 * coordinates: `<topic>-<partition>-<offset>`, redelivery overwrites (no duplicates).
 * key: the record key (UTF-8, or base64 when not valid UTF-8); keyless records fall
 *   back to coordinates. The latest record per key wins.
 * none: Elasticsearch picks ids; a redelivered record is indexed twice.
 */
export type IdStrategy = "coordinates" | "key" | "none";
export type TombstonePolicy = "skip" | "delete";
export type SkipReason = "tombstone" | "tombstone-no-key" | "tombstone-ids-not-keys";

export type DecodeResult =
  | { readonly kind: "document"; readonly action: BulkAction }
  | { readonly kind: "skip"; readonly reason: SkipReason };

export interface DecoderOptions {
  readonly router: Router;
  /** Default "index"; "create" for data streams (409 on an existing id). */
  readonly opType?: OpType;
  /** Default "coordinates". */
  readonly idStrategy?: IdStrategy;
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
  /** Clock for records without a usable timestamp; default Date.now. */
  readonly now?: () => number;
}

export interface Decoder {
  decode(record: KafkaRecord): DecodeResult;
}

const SKIP_TOMBSTONE: DecodeResult = { kind: "skip", reason: "tombstone" };
const SKIP_NO_KEY: DecodeResult = { kind: "skip", reason: "tombstone-no-key" };
const SKIP_IDS_NOT_KEYS: DecodeResult = { kind: "skip", reason: "tombstone-ids-not-keys" };

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const NEWLINES = /[\r\n]/g;

function isJsonBlank(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;
}

/** Index of the first non-blank character of `text` at or after `from`, or -1. */
function firstNonBlank(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    if (!isJsonBlank(text.charCodeAt(i))) return i;
  }
  return -1;
}

function trimLineEnd(text: string): string {
  let end = text.length;
  while (end > 0) {
    const code = text.charCodeAt(end - 1);
    if (code !== 0x0a && code !== 0x0d) break;
    end -= 1;
  }
  return end === text.length ? text : text.slice(0, end);
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

function headersFields(headers: KafkaRecord["headers"]): string {
  let text = "";
  let binary = "";
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (value === undefined) continue;
    if (typeof value === "string" || isUtf8(value)) {
      const str = typeof value === "string" ? value : value.toString("utf8");
      text += `${text === "" ? "" : ","}${JSON.stringify(name)}:${JSON.stringify(str)}`;
    } else {
      binary += `${binary === "" ? "" : ","}${JSON.stringify(name)}:${JSON.stringify(value.toString("base64"))}`;
    }
  }
  return (text === "" ? "" : `,"headers":{${text}}`) + (binary === "" ? "" : `,"headers_base64":{${binary}}`);
}

export function createDecoder(options: DecoderOptions): Decoder {
  const router = options.router;
  const opType = options.opType ?? "index";
  const idStrategy = options.idStrategy ?? "coordinates";
  const timestampField = options.timestampField ?? "@timestamp";
  const addTimestamp = options.addTimestamp ?? true;
  const metadataField = options.metadataField ?? "";
  const messageField = options.messageField ?? "message";
  const tombstones = options.tombstones ?? "skip";
  const now = options.now ?? Date.now;

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

  function documentId(record: KafkaRecord): string | undefined {
    if (idStrategy === "none") return undefined;
    // An empty key is no key: Elasticsearch refuses an empty _id.
    if (idStrategy === "key" && record.key !== null && record.key.length > 0) return keyId(record.key);
    return `${record.topic}-${String(record.partition)}-${record.offset}`;
  }

  function metadata(record: KafkaRecord): string {
    // Offsets are int64 decimal strings: written as raw JSON numbers (exact, mapped as long).
    const offset = /^\d+$/.test(record.offset) ? record.offset : JSON.stringify(record.offset);
    let meta = `{"topic":${JSON.stringify(record.topic)},"partition":${JSON.stringify(record.partition)},"offset":${offset}`;
    if (isValidTimestamp(record.timestamp)) meta += `,"timestamp":${JSON.stringify(iso(record.timestamp))}`;
    if (record.key !== null) meta += `,${bytesField("key", record.key)}`;
    meta += headersFields(record.headers);
    return `${meta}}`;
  }

  /** The fields to add, comma-separated, without the surrounding braces ("" when none). */
  function extraFields(record: KafkaRecord, ts: number, doc: object | undefined): string {
    let fields = "";
    if (addTimestamp && (doc === undefined || !Object.hasOwn(doc, timestampField))) {
      fields = `${timestampKey}:${JSON.stringify(iso(ts))}`;
    }
    if (metadataField !== "" && (doc === undefined || !Object.hasOwn(doc, metadataField))) {
      fields += `${fields === "" ? "" : ","}${metadataKey}:${metadata(record)}`;
    }
    return fields;
  }

  function wrap(record: KafkaRecord, ts: number, text: string, value: Buffer, valid: boolean): string {
    const fields = extraFields(record, ts, undefined);
    let out = `{${fields}${fields === "" ? "" : ","}${messageKey}:${JSON.stringify(trimLineEnd(text))}`;
    if (!valid) out += `,${messageBase64Key}:${JSON.stringify(value.toString("base64"))}`;
    return `${out}}`;
  }

  function source(record: KafkaRecord, value: Buffer, ts: number): string {
    const valid = isUtf8(value);
    const text = value.toString("utf8");
    const brace = valid ? firstNonBlank(text, 0) : -1;
    if (brace < 0 || text.charCodeAt(brace) !== OPEN_BRACE) return wrap(record, ts, text, value, valid);

    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      return wrap(record, ts, text, value, valid);
    }
    // Text starting with "{" that parses is an object; the check satisfies the types.
    if (typeof doc !== "object" || doc === null) return wrap(record, ts, text, value, valid);

    // Bulk bodies are newline-delimited. In valid JSON a raw CR/LF can only be
    // insignificant whitespace (strings must escape them), so blanking them is exact.
    const body = text.includes("\n") || text.includes("\r") ? text.replace(NEWLINES, " ") : text;
    const fields = extraFields(record, ts, doc);
    if (fields === "") return body;
    const next = firstNonBlank(body, brace + 1);
    const empty = next >= 0 && body.charCodeAt(next) === CLOSE_BRACE;
    return `{${fields}${empty ? "" : ","}${body.slice(brace + 1)}`;
  }

  function tombstone(record: KafkaRecord, ts: number): DecodeResult {
    if (tombstones === "skip") return SKIP_TOMBSTONE;
    if (idStrategy !== "key") return SKIP_IDS_NOT_KEYS;
    if (record.key === null || record.key.length === 0) return SKIP_NO_KEY;
    const action: BulkAction = {
      op: "delete",
      index: router.route(record.topic, ts),
      id: keyId(record.key),
      source: undefined,
    };
    return { kind: "document", action };
  }

  return {
    decode(record: KafkaRecord): DecodeResult {
      const ts = effectiveTimestamp(record.timestamp, now);
      if (record.value === null) return tombstone(record, ts);
      const action: BulkAction = {
        op: opType,
        index: router.route(record.topic, ts),
        id: documentId(record),
        source: source(record, record.value, ts),
      };
      return { kind: "document", action };
    },
  };
}
