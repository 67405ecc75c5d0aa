/**
 * Legal Kafka record shapes, generated from a seed: null and empty keys and values,
 * JSON, text and binary values, headers with null values, repeated names, binary values
 * and odd names (empty, `__proto__`, quotes, dots), timestamps -1, 0, ordinary, far
 * future and the int64 maximum, offsets up to 2^63 - 1. Shared by the property test
 * (which encodes them on the wire and decodes them with kafkajs' own decoder) and the
 * fault test (which produces them to the real broker).
 */
import { createRequire } from "node:module";
import type { IHeaders, KafkaMessage } from "kafkajs";

export interface RecordShape {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** In record order; a name may repeat; null is a null value. */
  readonly headers: readonly (readonly [string, Buffer | null])[];
  /** Milliseconds since the epoch as Kafka carries it (int64, decimal). */
  readonly timestamp: string;
}

type Random = () => number;

/** Tags naming what a shape exercises, for counting coverage. */
export type ShapeTag =
  | "null-key" | "empty-key" | "binary-key"
  | "tombstone" | "empty-value" | "json" | "text" | "binary-value" | "invalid-json" | "scalar-json" | "blank-value"
  | "null-header" | "repeated-header" | "binary-header" | "odd-header-name"
  | "ts-none" | "ts-zero" | "ts-far-future" | "ts-int64-max";

export const TOPICS = ["orders", "Mixed.Case_topic-1", "_internal-ish", "t".repeat(249)] as const;
export const HEADER_NAMES = ["trace", "x", "", "__proto__", "constructor", "toString", 'q"uote', "ü-name", "a.b", "tag"] as const;
export const ODD_HEADER_NAMES: ReadonlySet<string> = new Set(["", "__proto__", "constructor", "toString", 'q"uote', "ü-name", "a.b"]);

function pick<T>(random: Random, items: readonly T[]): T {
  const item = items[Math.floor(random() * items.length)];
  if (item === undefined) throw new Error("pick from an empty list");
  return item;
}

function randomBytes(random: Random, length: number): Buffer {
  return Buffer.from(Array.from({ length }, () => Math.floor(random() * 256)));
}

/** Bytes that are certainly not UTF-8 (a lone continuation byte first). */
function binary(random: Random): Buffer {
  return Buffer.concat([Buffer.from([0x80]), randomBytes(random, 1 + Math.floor(random() * 12))]);
}

const TEXTS = ["hello", "é ü 漢字 🎉", 'quote " and \\ backslash', "tab\tand\u0001control", "line\nbreak", "trailing newline\n", "CRLF end\r\n"];

function jsonObject(random: Random): string {
  const fields: string[] = [`"n":${String(Math.floor(random() * 1e6))}`];
  if (random() < 0.3) fields.push('"@timestamp":"2024-05-06T07:08:09Z"');
  if (random() < 0.3) fields.push('"big":12345678901234567890123');
  if (random() < 0.3) fields.push(`"s":${JSON.stringify(pick(random, TEXTS))}`);
  if (random() < 0.2) fields.push('"nested":{"a":[1,{"b":null}],"c":"\\u00e9"}');
  if (random() < 0.1) fields.push('"kafka":{"own":true}');
  const separator = random() < 0.2 ? ",\n  " : ",";
  const lead = random() < 0.2 ? " \n\t" : "";
  return `${lead}{${fields.join(separator)}}${random() < 0.2 ? "\n" : ""}`;
}

function key(random: Random, tags: Set<ShapeTag>): Buffer | null {
  const r = random();
  if (r < 0.3) {
    tags.add("null-key");
    return null;
  }
  if (r < 0.4) {
    tags.add("empty-key");
    return Buffer.alloc(0);
  }
  if (r < 0.6) {
    tags.add("binary-key");
    return binary(random);
  }
  return Buffer.from(pick(random, ["k1", "user-42", "é", "a/b c", "x".repeat(600)]));
}

const VALUES: readonly [number, ShapeTag, (random: Random) => Buffer | null][] = [
  [0.1, "tombstone", () => null],
  [0.05, "empty-value", () => Buffer.alloc(0)],
  [0.4, "json", (random) => Buffer.from(jsonObject(random))],
  [0.15, "text", (random) => Buffer.from(pick(random, TEXTS))],
  [0.1, "binary-value", binary],
  [0.1, "invalid-json", (random) => Buffer.from(pick(random, ['{"seq":1,"tag":', '{"a":1}{"b":2}', "{'single':1}", '{"a":1,}']))],
  [0.05, "scalar-json", (random) => Buffer.from(pick(random, ["42", '"str"', "[1,2]", "null", "true"]))],
  [0.05, "blank-value", (random) => Buffer.from(pick(random, [" ", "\n", "\r\n\t "]))],
];

function value(random: Random, tags: Set<ShapeTag>): Buffer | null {
  let r = random();
  for (const [weight, tag, make] of VALUES) {
    if (r < weight) {
      tags.add(tag);
      return make(random);
    }
    r -= weight;
  }
  tags.add("json");
  return Buffer.from("{}");
}

function headerValue(random: Random, tags: Set<ShapeTag>): Buffer | null {
  const r = random();
  if (r < 0.25) {
    tags.add("null-header");
    return null;
  }
  if (r < 0.55) {
    tags.add("binary-header");
    return binary(random);
  }
  if (r < 0.65) return Buffer.alloc(0);
  return Buffer.from(pick(random, TEXTS));
}

function headers(random: Random, tags: Set<ShapeTag>): [string, Buffer | null][] {
  if (random() < 0.4) return [];
  const count = 1 + Math.floor(random() * 5);
  const list: [string, Buffer | null][] = [];
  for (let i = 0; i < count; i++) {
    // Few names, several headers: repeats come often.
    const name = pick(random, HEADER_NAMES);
    if (ODD_HEADER_NAMES.has(name)) tags.add("odd-header-name");
    if (list.some(([n]) => n === name)) tags.add("repeated-header");
    list.push([name, headerValue(random, tags)]);
  }
  return list;
}

const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);

function timestamp(random: Random, tags: Set<ShapeTag>): string {
  const r = random();
  if (r < 0.15) {
    tags.add("ts-none");
    return "-1";
  }
  if (r < 0.25) {
    tags.add("ts-zero");
    return "0";
  }
  if (r < 0.35) {
    tags.add("ts-far-future");
    return pick(random, ["253402300800000", "32503680000000", "99999999999999"]);
  }
  if (r < 0.4) {
    tags.add("ts-int64-max");
    return "9223372036854775807";
  }
  return String(NOW - Math.floor(random() * 400 * 86_400_000));
}

export interface GeneratedShape {
  readonly shape: RecordShape;
  readonly tags: ReadonlySet<ShapeTag>;
}

/** One shape from `random`; offsets grow from `offset` so a partition's records stay ordered. */
export function generateShape(random: Random, offset: bigint): GeneratedShape {
  const tags = new Set<ShapeTag>();
  const shape: RecordShape = {
    topic: pick(random, TOPICS),
    partition: Math.floor(random() * 100),
    offset: (random() < 0.1 ? 9223372036854775807n - offset : offset).toString(),
    key: key(random, tags),
    value: value(random, tags),
    headers: headers(random, tags),
    timestamp: timestamp(random, tags),
  };
  return { shape, tags };
}

/** kafkajs' own wire codec (internal modules: the producer's encoder, the consumer's decoder). */
interface WireEncoder {
  writeInt8(value: number): WireEncoder;
  writeVarInt(value: number): WireEncoder;
  writeVarLong(value: number): WireEncoder;
  writeVarIntBytes(value: Buffer | string | null): WireEncoder;
  writeVarIntString(value: string): WireEncoder;
  readonly buffer: Buffer;
}
type EncoderClass = new () => WireEncoder;
type DecoderClass = new (buffer: Buffer) => { readVarIntBytes(): Buffer | null };
type RecordDecoder = (decoder: unknown, context: object) => KafkaMessage;
type RecordEncoder = (record: { key: Buffer | null; value: Buffer | null; headers: IHeaders; offsetDelta: number; timestampDelta: number }) => WireEncoder;

const require = createRequire(import.meta.url);
const Encoder = require("kafkajs/src/protocol/encoder.js") as EncoderClass;
const Decoder = require("kafkajs/src/protocol/decoder.js") as DecoderClass;
const decodeRecord = require("kafkajs/src/protocol/recordBatch/record/v0/decoder.js") as RecordDecoder;
const encodeRecord = require("kafkajs/src/protocol/recordBatch/record/v0/index.js") as RecordEncoder;

/**
 * The record as Kafka stores it (record format v2, delta 0 from the batch's first
 * offset and timestamp), written by hand because kafkajs' encoder cannot write a null
 * header value, which Java and librdkafka producers do.
 */
export function wireRecord(shape: RecordShape): Buffer {
  const body = new Encoder().writeInt8(0).writeVarLong(0).writeVarInt(0).writeVarIntBytes(shape.key).writeVarIntBytes(shape.value);
  body.writeVarInt(shape.headers.length);
  for (const [name, headerValue] of shape.headers) body.writeVarIntString(name).writeVarIntBytes(headerValue);
  return new Encoder().writeVarIntBytes(body.buffer).buffer;
}

/** The message kafkajs' consumer hands to `eachBatch` for a record of a batch starting at it. */
export function kafkajsMessage(record: Buffer, firstOffset: string, firstTimestamp: string): KafkaMessage {
  const recordBytes = new Decoder(record).readVarIntBytes();
  if (recordBytes === null) throw new Error("not a record");
  return decodeRecord(new Decoder(recordBytes), { firstOffset, firstTimestamp, magicByte: 2, isControlBatch: false, timestampType: 0 });
}

/** A record as kafkajs' producer writes it (what a dead letter becomes on the wire). */
export function producedRecord(message: { key: Buffer | null; value: Buffer | null; headers: IHeaders }): Buffer {
  return encodeRecord({ ...message, offsetDelta: 0, timestampDelta: 0 }).buffer;
}
