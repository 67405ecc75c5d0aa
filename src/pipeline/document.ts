import { writeEscaped } from "./json-string.ts";
import type { Ack, KafkaRecord } from "./record.ts";

/** One line pair of a bulk request, already serialized: the sink never re-encodes a source. */
export interface BulkAction {
  /** `update` sends `{"doc": source, "doc_as_upsert": true}`: the source is merged into the document. */
  readonly op: "index" | "create" | "delete" | "update";
  readonly index: string;
  /** Undefined lets Elasticsearch choose the id (duplicates possible on redelivery). */
  readonly id: string | undefined;
  /**
   * External version (a decimal int64, the record's Kafka offset), set with key ids: a
   * write carrying an older offset than the document's is refused with 409, so a stale
   * record retried after a newer one succeeded never overwrites it.
   */
  readonly version?: string;
  /** Ingest pipeline the document goes through (index and create only). */
  readonly pipeline?: string;
  /**
   * Writes that are not versioned yet must apply in offset order per document (updates
   * and the deletes beside them): the sink sends at most one such action per index and
   * id at a time, the next only once the one before it is settled.
   */
  readonly orderedByKey?: boolean;
  /**
   * The document as JSON, absent for `delete`: UTF-8 bytes (the decoder's fast path
   * hands on the record's own bytes, never decoded to a string), text, or the
   * record's bytes with fields spliced in (`SplicedSource`).
   */
  readonly source: DocumentSource | undefined;
}

/**
 * A source assembled from JSON text and a view of the record's own bytes: `head`,
 * `rest`, `tail`. The bytes are copied once, into the bulk body, rather than into a
 * second buffer or string per record that would live as long as the record itself:
 * a record's bytes are held once, not twice. Two shapes:
 * - a JSON object with fields added after its opening brace: head `{"f":...,`, rest
 *   the bytes after the brace, no tail;
 * - a text line wrapped in an object: head `{...,"message":"`, rest the line's bytes
 *   written escaped (`escapeRest`), tail `"}`.
 */
export interface SplicedSource {
  /** JSON text before the record's bytes (no raw line break). */
  readonly head: string;
  /** The record's bytes; raw line breaks in them are blanked by the body builder unless escaped. */
  readonly rest: Buffer;
  /** Write `rest` as the inside of a JSON string (valid UTF-8; see json-string.ts). */
  readonly escapeRest?: boolean;
  /**
   * `rest` is not valid UTF-8 (a binary value): it is written as its text (invalid
   * sequences as U+FFFD, trailing line breaks trimmed) in a JSON string, then this JSON
   * key and its base64. Both are made only while the bulk body is written: a queued
   * record holds its bytes, not strings several times their size (issue 17).
   */
  readonly binaryRest?: string;
  /** Bytes `rest` takes as written (escapes included). */
  readonly restBytes: number;
  /** JSON text after the record's bytes. */
  readonly tail?: string;
}

export type DocumentSource = string | Buffer | SplicedSource;

const LF = 0x0a;
const CR = 0x0d;

/** What a binary `rest` is written as: `"<text>",<base64Key>:"<base64>"` (see SplicedSource.binaryRest). */
export function binaryRestJson(rest: Buffer, base64Key: string): string {
  let end = rest.length;
  while (end > 0 && (rest[end - 1] === LF || rest[end - 1] === CR)) end -= 1;
  return `${JSON.stringify(rest.toString("utf8", 0, end))},${base64Key}:"${rest.toString("base64")}"`;
}

export function isSpliced(source: DocumentSource): source is SplicedSource {
  return typeof source === "object" && !Buffer.isBuffer(source);
}

/** UTF-8 bytes of a source. */
export function sourceByteLength(source: DocumentSource): number {
  if (typeof source === "string") return Buffer.byteLength(source);
  if (isSpliced(source)) return Buffer.byteLength(source.head) + source.restBytes + (source.tail === undefined ? 0 : Buffer.byteLength(source.tail));
  return source.length;
}

/** Writes a spliced source into `target` at `at` (room is the caller's business); returns the new end. */
export function writeSpliced(target: Buffer, at: number, source: SplicedSource, writeRest: (target: Buffer, at: number, rest: Buffer) => number): number {
  at += target.write(source.head, at, "utf8");
  if (source.binaryRest !== undefined) at += target.write(binaryRestJson(source.rest, source.binaryRest), at, "utf8");
  else at = source.escapeRest === true ? writeEscaped(target, at, source.rest) : writeRest(target, at, source.rest);
  return source.tail === undefined ? at : at + target.write(source.tail, at, "utf8");
}

/** The source as one Buffer (for logs, dead letters and tests; the hot path writes the parts). */
export function sourceBytes(source: DocumentSource): Buffer {
  if (typeof source === "string") return Buffer.from(source, "utf8");
  if (!isSpliced(source)) return source;
  const out = Buffer.allocUnsafe(sourceByteLength(source));
  const end = writeSpliced(out, 0, source, (target, at, rest) => at + rest.copy(target, at));
  return out.subarray(0, end);
}

/** A decoded record on its way to Elasticsearch, with the ack of the Kafka record it came from. */
export interface PendingDocument {
  readonly action: BulkAction;
  readonly origin: KafkaRecord;
  readonly ack: Ack;
  /**
   * The action's bulk metadata line (`actionLine`), serialized once when the document
   * is batched and reused by every request that carries it; computed when absent.
   */
  readonly actionLine?: string;
  /**
   * Hands the record back without settling it: its queue budget is freed, it is not
   * acked (so never committed) and will be read from Kafka again. Used when its
   * partition is held (an index refuses it); absent, the document is retried in place.
   */
  readonly giveBack?: () => void;
}
