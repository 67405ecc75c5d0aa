/**
 * Property: every legal Kafka record shape passes from kafkajs' decoder to a bulk action
 * (or a skip, or the failure policy) without an exception, under every document setting,
 * through the code `start`, `replay` and `redrive` run:
 *
 * - the record is written on the wire by hand (record format v2, null header values
 *   included) and decoded by kafkajs' own record decoder, as a fetch would be;
 * - `toKafkaRecord` (batch intake and the replay reader), `composeDecoder` (the decoder
 *   every command composes), the bulk workers with their batcher and body builder, the
 *   worker's failure policy and its metrics observer; Elasticsearch is a function that
 *   checks every body line is JSON and refuses some documents for their content;
 * - refused records go to the dead-letter topic through the real dead-letter producer,
 *   whose kafkajs client is replaced by kafkajs' own record encoder; the dead letters
 *   are decoded again and run through redrive's conversion (`asSourceRecord`,
 *   `redriveDecode`): each must give the document its source record gave (same index,
 *   id and bytes).
 *
 * Seeded (test/support/prng.ts): a failure names the seed and the record.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Kafka, Message, ProducerConfig } from "kafkajs";
import { composeDecoder, composeFailurePolicy } from "../../src/compose/sink.ts";
import { loadConfig } from "../../src/config/load.ts";
import { effectivePermanentErrorPolicy } from "../../src/config/rules.ts";
import type { Config } from "../../src/config/schema.ts";
import { BoundedQueue } from "../../src/pipeline/bounded-queue.ts";
import type { Decoder } from "../../src/pipeline/decoder.ts";
import { sourceBytes, type BulkAction } from "../../src/pipeline/document.ts";
import type { KafkaRecord, QueuedRecord } from "../../src/pipeline/record.ts";
import { effectiveTimestamp } from "../../src/pipeline/timestamp.ts";
import { asSourceRecord, redriveDecode } from "../../src/redrive/redrive.ts";
import type { BulkFunction } from "../../src/sink/bulk-client.ts";
import { startBulkWorkers, type DecodeResult } from "../../src/sink/bulk-workers.ts";
import type { FailurePolicy } from "../../src/sink/failure-policy.ts";
import { noopLogger, type SinkObserver } from "../../src/sink/observer.ts";
import { toKafkaRecord } from "../../src/source/consumer/record-conversion.ts";
import { DeadLetterProducer } from "../../src/source/dead-letter/dead-letter-producer.ts";
import { createMetrics } from "../../src/telemetry/metrics.ts";
import { metricsObserver } from "../../src/telemetry/sink-observer.ts";
import { seededRandom } from "../support/prng.ts";
import { generateShape, kafkajsMessage, producedRecord, wireRecord, type GeneratedShape, type ShapeTag } from "../support/record-shapes.ts";

const SEED = Number(process.env.SHAPES_SEED ?? 20250601);
const RECORDS = 400;
const DLQ = "shapes-dlq";

interface Variant {
  readonly name: string;
  readonly env: Record<string, string>;
  /** `replay --index`: one template for every record. */
  readonly indexOverride?: string;
}

const VARIANTS: readonly Variant[] = [
  { name: "defaults", env: {} },
  {
    name: "metadata, key ids, tombstones delete, daily indices",
    env: { DOC_METADATA_FIELD: "kafka", DOC_ID_STRATEGY: "key", DOC_TOMBSTONES: "delete", INDEX_TEMPLATE: "{topic}-{yyyy.MM.dd}" },
  },
  {
    name: "metadata, coordinates, prefix, hourly indices in +05:30",
    env: { DOC_METADATA_FIELD: "meta", INDEX_PREFIX: "p-", INDEX_TEMPLATE: "{topic}-{yyyy.MM.dd.HH}", INDEX_TIMEZONE: "+05:30" },
  },
  { name: "replay --index, no ids, no added timestamp", env: { DOC_ID_STRATEGY: "none", DOC_ADD_TIMESTAMP: "false", DOC_MESSAGE_FIELD: "msg" }, indexOverride: "replayed-{yyyy.MM}" },
  { name: "skip policy, metadata", env: { DOC_METADATA_FIELD: "kafka", ON_PERMANENT_ERROR: "skip" } },
  {
    name: "routing by a document field, per-topic update with key ids",
    env: {
      DOC_METADATA_FIELD: "kafka",
      INDEX_TEMPLATE: "r-{field:s|none}-{yyyy.MM}",
      TOPIC_SETTINGS: JSON.stringify({ orders: { opType: "update", idStrategy: "key" }, "/Mixed.*/": { idStrategy: "key" } }),
    },
  },
];

function configOf(variant: Variant): Config {
  return loadConfig({ argv: [], files: [], env: { KAFKA_TOPICS: "orders", DLQ_TOPIC: DLQ, ...variant.env } });
}

/** The generated records as kafkajs hands them over, converted by the source. */
function sourceRecords(seed: number): { records: KafkaRecord[]; shapes: Map<KafkaRecord, GeneratedShape> } {
  const random = seededRandom(seed);
  const records: KafkaRecord[] = [];
  const shapes = new Map<KafkaRecord, GeneratedShape>();
  for (let i = 0; i < RECORDS; i++) {
    const generated = generateShape(random, BigInt(i));
    const { shape } = generated;
    const message = kafkajsMessage(wireRecord(shape), shape.offset, shape.timestamp);
    const record = toKafkaRecord(shape.topic, shape.partition, message);
    records.push(record);
    shapes.set(record, generated);
  }
  return { records, shapes };
}

function where(record: KafkaRecord): string {
  return `${record.topic.slice(0, 20)}[${String(record.partition)}]@${record.offset}`;
}

/** What one record became in a run of the sink. */
interface SinkRun {
  readonly decoded: Map<KafkaRecord, DecodeResult>;
  readonly acks: Map<KafkaRecord, number>;
  readonly rejected: Map<KafkaRecord, string>;
  readonly skipped: Set<KafkaRecord>;
  readonly deadLetters: Buffer[];
  readonly bodies: number;
}

/** Elasticsearch as a function: every line must be JSON; about one document in six is refused for its content. */
function bulkStub(seed: number, onBody: () => void): BulkFunction {
  const random = seededRandom(seed);
  return (body) => {
    onBody();
    const lines = body.toString().split("\n");
    assert.equal(lines.pop(), "", "the body ends with a newline");
    const items: Record<string, { status: number; error?: { type: string; reason: string } }>[] = [];
    for (let i = 0; i < lines.length; i++) {
      const action = JSON.parse(lines[i] ?? "") as Record<string, { _index: string }>;
      const op = Object.keys(action)[0] ?? "";
      assert.ok(["index", "create", "update", "delete"].includes(op), `an action line: ${lines[i] ?? ""}`);
      if (op !== "delete") {
        i += 1;
        const source: unknown = JSON.parse(lines[i] ?? "");
        assert.ok(typeof source === "object" && source !== null && !Array.isArray(source), `a JSON object source: ${lines[i] ?? ""}`);
      }
      const refused = op !== "delete" && random() < 0.17;
      items.push({ [op]: refused ? { status: 400, error: { type: "document_parsing_exception", reason: "refused by the test" } } : { status: op === "delete" ? 200 : 201 } });
    }
    return Promise.resolve({ errors: items.some((item) => Object.values(item).some((r) => r.status >= 300)), items });
  };
}

/** The dead-letter producer with kafkajs' record encoder in place of a broker connection. */
function deadLetterProducer(written: Buffer[]): DeadLetterProducer {
  /** As kafkajs does: each message placed by the producer's partitioner (one partition here), the partition answered. */
  const makeProducer = ({ createPartitioner }: ProducerConfig) => {
    const partitioner = createPartitioner?.();
    return {
      connect: () => Promise.resolve(),
      disconnect: () => Promise.resolve(),
      send: ({ messages }: { messages: Message[] }) => {
        for (const m of messages) {
          partitioner?.({ topic: DLQ, partitionMetadata: [{ partitionId: 0, leader: 0, replicas: [0], isr: [0], offlineReplicas: [], partitionErrorCode: 0 }], message: m });
          written.push(producedRecord({ key: (m.key ?? null) as Buffer | null, value: (m.value ?? null) as Buffer | null, headers: m.headers ?? {} }));
        }
        return Promise.resolve([{ topicName: DLQ, partition: 0, errorCode: 0 }]);
      },
    };
  };
  return new DeadLetterProducer({ producer: makeProducer } as unknown as Kafka, { topic: DLQ });
}

async function runSink(config: Config, records: readonly KafkaRecord[], decode: (record: KafkaRecord) => DecodeResult, seed: number, toSource = (r: KafkaRecord) => r): Promise<SinkRun> {
  const run: SinkRun = { decoded: new Map(), acks: new Map(), rejected: new Map(), skipped: new Set(), deadLetters: [], bodies: 0 };
  let bodies = 0;
  const metrics = metricsObserver(createMetrics({ defaultMetrics: false }));
  const observer: SinkObserver = {
    ...metrics,
    recordSkipped: (record, reason) => {
      run.skipped.add(record);
      metrics.recordSkipped(record, reason);
    },
  };
  const policy = composeFailurePolicy(config, observer, noopLogger, deadLetterProducer(run.deadLetters));
  const failurePolicy: FailurePolicy = {
    name: policy.name,
    handle: (rejection, signal) => {
      run.rejected.set(rejection.record, rejection.errorType);
      return policy.handle(rejection, signal);
    },
  };
  const queue = new BoundedQueue<QueuedRecord>(config.queue, (item) => item.record.size);
  const abort = new AbortController();
  const workers = startBulkWorkers({
    queue: {
      get waiting() {
        return queue.waiting;
      },
      // As redrive's queue does: the workers see each dead letter as its source record.
      take: (maxItems, maxBytes) => queue.take(maxItems, maxBytes).map((item) => ({ record: toSource(item.record), ack: item.ack })),
      waitForItems: (timeoutMs, signal) => queue.waitForItems(timeoutMs, signal),
      release: (bytes, count) => {
        queue.release(bytes, count);
      },
    },
    decode: (record) => {
      const result = decode(record);
      run.decoded.set(record, result);
      return result;
    },
    client: bulkStub(seed, () => (bodies += 1)),
    options: { ...config.bulk, failurePolicy: effectivePermanentErrorPolicy(config), lingerMs: 5 },
    failurePolicy,
    observer,
    logger: noopLogger,
    signal: abort.signal,
  });
  queue.push(records.map((record) => ({
    record,
    ack: () => {
      run.acks.set(record, (run.acks.get(record) ?? 0) + 1);
    },
  })));
  const fatal = workers.fatal.then((error) => error);
  const deadline = Date.now() + 30_000;
  while (run.acks.size < records.length && Date.now() < deadline) {
    const stopped = await Promise.race([fatal, new Promise<undefined>((resolve) => setTimeout(() => { resolve(undefined); }, 5))]);
    assert.equal(stopped, undefined, `the workers stopped: ${String(stopped?.message)}`);
  }
  await workers.stop();
  abort.abort();
  return { ...run, bodies };
}

/**
 * The document an action writes, as text. A JSON object keeps its own bytes, raw line
 * breaks included (insignificant whitespace there): the body builder blanks them.
 */
function documentText(action: BulkAction): string {
  return action.source === undefined ? "" : sourceBytes(action.source).toString("utf8").replace(/[\r\n]/g, " ");
}

/** What the metadata field should say of the headers: the model, written without the decoder's code. */
function expectedHeaders(headers: GeneratedShape["shape"]["headers"]): { headers?: object; headers_base64?: object } {
  const byName = new Map<string, (Buffer | null)[]>();
  for (const [name, value] of headers) byName.set(name, [...(byName.get(name) ?? []), value]);
  const text: [string, unknown][] = [];
  const binary: [string, unknown][] = [];
  for (const [name, values] of byName) {
    const base64 = values.some((v) => v !== null && Buffer.from(v.toString("utf8"), "utf8").compare(v) !== 0);
    const json = values.map((v) => (v === null ? null : v.toString(base64 ? "base64" : "utf8")));
    (base64 ? binary : text).push([name, json.length === 1 ? json[0] : json]);
  }
  return {
    ...(text.length > 0 ? { headers: Object.fromEntries(text) } : {}),
    ...(binary.length > 0 ? { headers_base64: Object.fromEntries(binary) } : {}),
  };
}

function checkDocument(config: Config, record: KafkaRecord, generated: GeneratedShape, action: BulkAction, variant: Variant): void {
  if (action.op === "delete") return;
  const text = documentText(action);
  const parsed = JSON.parse(text) as Record<string, unknown>;
  // An update sends {"doc": <the document>, "doc_as_upsert": true}.
  const document = (action.op === "update" ? parsed.doc : parsed) as Record<string, unknown>;
  const { shape } = generated;
  const date = new Date(effectiveTimestamp(Number(shape.timestamp)));
  if (config.document.addTimestamp && !(shape.value?.toString().includes('"@timestamp"') ?? false)) {
    assert.equal(document["@timestamp"], date.toISOString(), `@timestamp of ${where(record)} (${shape.timestamp})`);
  }
  if (variant.indexOverride !== undefined) assert.equal(action.index, `replayed-${date.toISOString().slice(0, 7).replace("-", ".")}`);
  const field = config.document.metadataField;
  if (field === "" || (shape.value?.toString().includes(`"${field}":`) ?? false)) return;
  const meta = document[field] as Record<string, unknown>;
  const { headers, headers_base64 } = meta;
  assert.deepEqual({ ...(headers === undefined ? {} : { headers }), ...(headers_base64 === undefined ? {} : { headers_base64 }) }, expectedHeaders(shape.headers), `headers of ${where(record)}`);
}

describe("record shapes: from kafkajs' decoder to a bulk action, the failure policy, the dead-letter topic and back", () => {
  const { records, shapes } = sourceRecords(SEED);

  test("the generator covers every shape the issue names", () => {
    const seen = new Set<ShapeTag>();
    for (const { tags } of shapes.values()) for (const tag of tags) seen.add(tag);
    const all: ShapeTag[] = ["null-key", "empty-key", "binary-key", "tombstone", "empty-value", "json", "text", "binary-value", "invalid-json", "scalar-json", "blank-value", "null-header", "repeated-header", "binary-header", "odd-header-name", "ts-none", "ts-zero", "ts-far-future", "ts-int64-max"];
    assert.deepEqual(all.filter((tag) => !seen.has(tag)), [], `seed ${String(SEED)}`);
  });

  for (const variant of VARIANTS) {
    test(`${variant.name}: each record is indexed, skipped or handed to the failure policy, once; dead letters redrive to the same document`, async () => {
      const config = configOf(variant);
      const decoder: Decoder = composeDecoder(config, variant.indexOverride);
      const first = await runSink(config, records, (record) => decoder.decode(record), SEED);
      assert.ok(first.bodies > 0);
      for (const record of records) {
        const label = `${where(record)} (seed ${String(SEED)})`;
        assert.equal(first.acks.get(record), 1, `acked once: ${label}`);
        const result = first.decoded.get(record);
        assert.ok(result !== undefined, `decoded: ${label}`);
        const errorType = first.rejected.get(record);
        assert.notEqual(errorType, "decode_error", `the decoder never throws: ${label}`);
        // The one shape Elasticsearch cannot take as a document: an _id over 512 bytes (a long key as the id).
        const idTooLong = result.kind === "document" && result.action.id !== undefined && Buffer.byteLength(result.action.id) > 512;
        assert.equal(errorType === "invalid_action", idTooLong, `invalid_action exactly for ids too long: ${label}`);
        if (result.kind === "skip") assert.ok(first.skipped.has(record) && errorType === undefined, `a skip is only a skip: ${label}`);
        else checkDocument(config, record, shapes.get(record) ?? assert.fail("shape"), result.action, variant);
      }
      if (effectivePermanentErrorPolicy(config) === "skip") {
        assert.equal(first.deadLetters.length, 0);
        return;
      }
      assert.equal(first.deadLetters.length, first.rejected.size, "one dead letter per refused record");
      assert.ok(first.deadLetters.length > 10, "the run refused some records");

      // Redrive: the dead letters as kafkajs decodes them from the dead-letter topic.
      const byCoordinates = new Map(records.map((r) => [`${r.topic}/${String(r.partition)}/${r.offset}`, r]));
      const letters = first.deadLetters.map((bytes, i) => toKafkaRecord(DLQ, 0, kafkajsMessage(bytes, String(i), String(Date.now()))));
      const decode = redriveDecode(decoder);
      const again = await runSink(config, letters, decode, SEED + 1, asSourceRecord);
      for (const [redriven, result] of again.decoded) {
        const original = byCoordinates.get(`${redriven.topic}/${String(redriven.partition)}/${redriven.offset}`);
        assert.ok(original !== undefined, `a dead letter names its source record: ${where(redriven)}`);
        assert.deepEqual(redriven.headers, original.headers, `headers restored: ${where(original)}`);
        assert.equal(redriven.timestamp, original.timestamp, `timestamp restored: ${where(original)}`);
        const before = first.decoded.get(original);
        assert.ok(before?.kind === "document" && result.kind === "document", `both documents: ${where(original)}`);
        const { source: sourceBefore, ...actionBefore } = before.action;
        const { source: sourceAfter, ...actionAfter } = result.action;
        assert.deepEqual(actionAfter, actionBefore, `same index, id and version: ${where(original)}`);
        assert.equal(sourceAfter === undefined ? "" : documentText(result.action), sourceBefore === undefined ? "" : documentText(before.action), `same document: ${where(original)}`);
      }
      assert.equal(again.decoded.size, letters.length);
      for (const letter of letters) assert.equal(again.acks.get(letter), 1, "every dead letter settled once");
    });
  }
});
