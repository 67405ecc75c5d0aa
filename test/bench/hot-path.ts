/**
 * `make bench-hot-path`: the worker's own per-record work without any server, in CPU
 * microseconds per record and per stage: kafkajs message -> record (intake, checkpointer
 * segment, queue), decoding, batching (action line, size estimate), bulk body, response
 * classification and acks (checkpointer, queue release, latency metric). CPU time is
 * what a shared machine distorts least, so this is how a hot-path change is shown
 * before and after; the network, kafkajs' fetch loop and the HTTP client are outside
 * (the Kafka ceiling and `make bench` cover them).
 *
 * Then fetched record batches decoded by kafkajs' decoder and by ours (fetch-decode-cost.ts),
 * and the decode cost per value format (test/bench/format-cost.ts): the same event as
 * json, Avro, Protobuf and JSON Schema through the worker's decoder.
 *
 * Environment: BENCH_RECORDS (200000), BENCH_VARIANTS (json,text), BENCH_RECORD_BYTES (1024), BENCH_HOT_ROUNDS (5),
 * BENCH_HOT_TEMPLATE (the index template, default "{topic}"; e.g. "logs-{field:service.name}-{yyyy.MM.dd}"
 * for the cost of routing by a document field).
 */
import type { KafkaMessage } from "kafkajs";
import { createDecoder } from "../../src/pipeline/decoder.ts";
import type { PendingDocument } from "../../src/pipeline/document.ts";
import { BoundedQueue } from "../../src/pipeline/bounded-queue.ts";
import type { QueuedRecord } from "../../src/pipeline/record.ts";
import { createRouter } from "../../src/pipeline/router.ts";
import { Batcher } from "../../src/sink/batcher.ts";
import { actionLine, buildBulkBody, estimateActionBytes } from "../../src/sink/bulk-request.ts";
import { classifyResponse, type BulkResponseBody } from "../../src/sink/bulk-response.ts";
import { queuedDocument, type RecordSettler } from "../../src/sink/queued-document.ts";
import { Checkpointer } from "../../src/source/offsets/checkpointer.ts";
import { toKafkaRecord } from "../../src/source/consumer/record-conversion.ts";
import { createMetrics } from "../../src/telemetry/metrics.ts";
import { makeRecord } from "./data.ts";
import { fetchDecodeCosts, fetchDecodeTable } from "./fetch-decode-cost.ts";
import { formatCosts, formatCostTable, formatDecoderOptions, formatValue } from "./format-cost.ts";
import { loadSettings, type Variant } from "./settings.ts";

const TOPIC = "hot-path";
const BATCH = 500;

type Stage = "intake" | "decode" | "batch" | "body" | "response" | "ack";
const STAGES: readonly Stage[] = ["intake", "decode", "batch", "body", "response", "ack"];

function cpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

/** kafkajs-shaped messages, values as slices of one large buffer like a fetch response. */
function messages(variant: Variant, count: number, recordBytes: number): KafkaMessage[] {
  const values = Array.from({ length: count }, (_, i) => (variant === "avro" ? formatValue("avro", i, recordBytes) : Buffer.from(makeRecord(variant, i, recordBytes))));
  const all = Buffer.concat(values);
  let at = 0;
  const now = Date.now();
  return values.map((v, i): KafkaMessage => {
    const value = all.subarray(at, at + v.length);
    at += v.length;
    return { key: null, value, timestamp: String(now + i), attributes: 0, offset: String(i), headers: {} };
  });
}

const TEMPLATE = process.env.BENCH_HOT_TEMPLATE ?? "{topic}";

/** One pass over `msgs`; adds the CPU µs of each stage to `spent`. */
function pass(msgs: readonly KafkaMessage[], spent: Record<Stage, number>, variant: Variant): void {
  const checkpointer = new Checkpointer();
  checkpointer.assign([{ topic: TOPIC, partition: 0 }]);
  checkpointer.seedPosition(TOPIC, 0, "0");
  const queue = new BoundedQueue<QueuedRecord>({ maxRecords: 1e9, maxBytes: 1e15, lowWatermarkRatio: 0.5 }, (item) => item.record.size);
  const decoder = createDecoder({ router: createRouter({ template: TEMPLATE }), ...(variant === "avro" ? formatDecoderOptions("avro") : {}) });
  const metrics = createMetrics({ defaultMetrics: false });
  metrics.setPendingRecords(TOPIC, 0, 0);
  const batcher = new Batcher<PendingDocument>({ maxDocuments: 2000, maxBytes: 5 * 2 ** 20, lingerMs: 100 });
  // What the bulk workers do when a document is settled (bulk-workers.ts), partition holds on as in the worker.
  const settler: RecordSettler = {
    acked: (item) => {
      item.ack();
      queue.release(item.record.size, 1);
      metrics.recordAcked(item.record.topic, item.record.partition, item.record.timestamp);
    },
    givenBack: (item) => {
      queue.release(item.record.size, 1);
    },
  };
  for (let from = 0; from < msgs.length; from += BATCH) {
    let t = cpuMicros();
    const mark = (stage: Stage): void => {
      const n = cpuMicros();
      spent[stage] += n - t;
      t = n;
    };
    const slice = msgs.slice(from, from + BATCH);
    const segment = checkpointer.track(TOPIC, 0, String(from), String(from + slice.length - 1), slice.length);
    if (!segment) throw new Error("not tracked");
    queue.push(slice.map((m) => ({ record: toKafkaRecord(TOPIC, 0, m), ack: segment.recordAck() })));
    const items = queue.take(BATCH, 1e15);
    mark("intake");
    const decoded = items.map((item) => ({ item, result: decoder.decode(item.record) }));
    mark("decode");
    const batches: PendingDocument[][] = [];
    for (const { item, result } of decoded) {
      if (result.kind !== "document") continue;
      const line = actionLine(result.action);
      const document = queuedDocument(item, result.action, line, settler, true);
      batches.push(...batcher.add(document, estimateActionBytes(result.action, line), 0));
    }
    batches.push(batcher.flush());
    mark("batch");
    const bodies = batches.map((b) => buildBulkBody(b));
    mark("body");
    for (const batch of batches) {
      const response = JSON.parse(JSON.stringify({ errors: false, items: batch.map(() => ({ index: { status: 201, result: "created" } })) })) as BulkResponseBody;
      t = cpuMicros(); // the fake server's JSON is not ours to count
      classifyResponse(batch.map((d) => d.action), response);
      mark("response");
      for (const document of batch) document.ack();
      mark("ack");
    }
    if (bodies.length === 0) throw new Error("no body");
  }
}

async function main(): Promise<void> {
  const settings = loadSettings({ BENCH_RECORDS: "200000", ...process.env });
  const rounds = Number(process.env.BENCH_HOT_ROUNDS ?? "5");
  const lines = ["| variant | " + STAGES.join(" | ") + " | total µs/record | CPU s per 100k |", "|---|" + STAGES.map(() => "--:|").join("") + "--:|--:|"];
  for (const variant of settings.variants) {
    const msgs = messages(variant, settings.records, settings.recordBytes);
    pass(msgs.slice(0, 20_000), Object.fromEntries(STAGES.map((s) => [s, 0])) as Record<Stage, number>, variant); // warm-up
    const spent = Object.fromEntries(STAGES.map((s) => [s, 0])) as Record<Stage, number>;
    for (let r = 0; r < rounds; r++) pass(msgs, spent, variant);
    const per = (us: number): number => us / (rounds * msgs.length);
    const total = STAGES.reduce((a, s) => a + per(spent[s]), 0);
    lines.push(`| ${variant} | ${STAGES.map((s) => per(spent[s]).toFixed(2)).join(" | ")} | ${total.toFixed(2)} | ${(total / 10).toFixed(3)} |`);
  }
  process.stdout.write(`hot path, CPU µs per record (${String(settings.records)} records x ${String(rounds)} rounds, ${String(settings.recordBytes)} B, template ${TEMPLATE}):\n${lines.join("\n")}\n`);
  const formats = formatCosts(20_000, settings.recordBytes, rounds);
  const fetches = await fetchDecodeCosts(settings.variants, 50_000, settings.recordBytes, rounds);
  process.stdout.write(`\nfetched record batches decoded, kafkajs' decoder vs ours (CPU µs per record, best of ${String(rounds)}):\n${fetchDecodeTable(fetches)}\n`);
  process.stdout.write(`\ndecode cost per value format (the same event as json, Avro, Protobuf, JSON Schema; CPU µs per record, best of ${String(rounds)}):\n${formatCostTable(formats)}\n`);
}

await main();
