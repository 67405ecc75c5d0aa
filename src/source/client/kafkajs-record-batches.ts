/**
 * Puts `decodeRecordBatch` (record-batch-decoder.ts) in the place of kafkajs' own
 * record batch decoder. kafkajs offers no hook for it: its fetch response decoder
 * `require`s the batch decoder once, when it is first loaded, which is at the first
 * fetch (kafkajs loads each protocol version's modules lazily). So the replacement is
 * entered in Node's module cache under the batch decoder's file name when the first
 * Kafka client is made (`newKafkaClient`, through which every client is made).
 *
 * Only for the kafkajs version it was checked against (2.2.4, the last release): with
 * any other, or when a fetch was decoded before this module ran, kafkajs keeps its own
 * decoder and `useOurRecordBatchDecoder()` says so (the worker logs it at start).
 */
import { createRequire, Module } from "node:module";
import path from "node:path";
import { decodeRecordBatch, type BatchContext, type DecodedRecord, type KafkajsDecoder, type RecordCodec } from "./record-batch-decoder.ts";

const CHECKED_VERSION = "2.2.4";

const require = createRequire(import.meta.url);

type DecoderClass = new (buffer: Buffer) => KafkajsDecoder;

interface KafkajsInternals {
  readonly Decoder: DecoderClass;
  readonly recordDecoder: (decoder: KafkajsDecoder, context: BatchContext) => DecodedRecord;
  readonly lookupCodecByAttributes: (attributes: number) => RecordCodec | null;
  readonly PartialMessageError: new (message: string) => Error;
}

function kafkajsRoot(): string {
  return path.dirname(require.resolve("kafkajs/package.json"));
}

function loadInternals(root: string): KafkajsInternals {
  const from = (file: string): unknown => require(path.join(root, "src", file));
  return {
    Decoder: from("protocol/decoder.js") as DecoderClass,
    recordDecoder: from("protocol/recordBatch/record/v0/decoder.js") as KafkajsInternals["recordDecoder"],
    lookupCodecByAttributes: (from("protocol/message/compression/index.js") as Pick<KafkajsInternals, "lookupCodecByAttributes">).lookupCodecByAttributes,
    PartialMessageError: (from("errors.js") as { KafkaJSPartialMessageError: KafkajsInternals["PartialMessageError"] }).KafkaJSPartialMessageError,
  };
}

export type RecordBatchDecoding = "ours" | "kafkajs (a fetch was decoded before the replacement)" | `kafkajs (version ${string} not checked)`;

/**
 * Makes an error without capturing a stack: a fetch cut at its size limit ends in a
 * partial batch per partition, and kafkajs' fetch decoder only reads the error's name.
 */
function withoutStack<E extends Error>(make: () => E): E {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return make();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

let installed: RecordBatchDecoding | undefined;

/** Installs the replacement once; says which decoder reads fetched record batches. */
export function useOurRecordBatchDecoder(): RecordBatchDecoding {
  installed ??= install();
  return installed;
}

function install(): RecordBatchDecoding {
  const root = kafkajsRoot();
  const version = (require(path.join(root, "package.json")) as { version?: string }).version ?? "?";
  if (version !== CHECKED_VERSION) return `kafkajs (version ${version} not checked)`;
  const batchDecoderFile = path.join(root, "src", "protocol", "recordBatch", "v0", "decoder.js");
  const fetchDecoderFile = path.join(root, "src", "protocol", "requests", "fetch", "v4", "decodeMessages.js");
  if (require.cache[fetchDecoderFile] !== undefined) return "kafkajs (a fetch was decoded before the replacement)";
  const kafkajs = loadInternals(root);
  const deps = {
    codecFor: kafkajs.lookupCodecByAttributes,
    fallback: (bytes: Buffer, context: BatchContext) => kafkajs.recordDecoder(new kafkajs.Decoder(bytes), context),
    partialError: (message: string) => withoutStack(() => new kafkajs.PartialMessageError(message)),
  };
  const entry = new Module(batchDecoderFile);
  entry.filename = batchDecoderFile;
  entry.loaded = true;
  entry.exports = (decoder: KafkajsDecoder) => decodeRecordBatch(decoder, deps);
  require.cache[batchDecoderFile] = entry;
  return "ours";
}
