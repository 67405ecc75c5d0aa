/**
 * `make demo`: the main job on local defaults. Produces sample traffic into three
 * topics, runs the real worker as a child process, shows its progress (records per
 * second, lag) from its own /metrics, and ends with the count per index and sample
 * searches. Re-runnable: each run uses fresh topics and a fresh consumer group.
 * A few events whose `duration_ms` is an object (a mapping conflict) go to the
 * dead-letter topic; the demo ends with their count and one of their headers.
 */
import { testElasticsearch } from "../support/elasticsearch.ts";
import { sleep } from "../support/env.ts";
import { createTopics, produce, withAdmin } from "../support/kafka.ts";
import { metricSum, metricValues, WorkerProcess } from "../support/worker.ts";
import { accessLogLine, appEvent, nestedEvent } from "./sample-data.ts";

const PER_TOPIC = Number(process.env.DEMO_RECORDS_PER_TOPIC ?? 50_000);
const PARTITIONS = 3;
const METRICS_PORT = process.env.METRICS_PORT ?? "9464";
const TOPICS = {
  access: "demo-access-logs",
  events: "demo-app-events",
  nested: "demo-k8s-nested",
} as const;
const ALL = Object.values(TOPICS);
/** Outside the worker's pattern (`demo-.*`, anchored): it must never consume its own dead letters. */
const DEAD_LETTERS = "dead-letters-demo";
/** Events whose `duration_ms` is an object, where the mapping says number. */
const POISON = 25;
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

async function resetTopicsAndIndices(): Promise<void> {
  const es = testElasticsearch();
  await es.indices.delete({ index: ALL.join(","), ignore_unavailable: true });
  await es.close();
  const topics = [...ALL, DEAD_LETTERS];
  await withAdmin(async (admin) => {
    const existing = new Set(await admin.listTopics());
    const old = topics.filter((t) => existing.has(t));
    if (old.length > 0) await admin.deleteTopics({ topics: old, timeout: 30_000 });
    // Topic deletion is asynchronous on the broker: wait until the names are free.
    for (let i = 0; i < 60; i++) {
      const now = new Set(await admin.listTopics());
      if (!topics.some((t) => now.has(t))) break;
      await sleep(500);
    }
  });
  await createTopics(topics, PARTITIONS);
}

async function produceAll(count: number, offset: number): Promise<void> {
  await Promise.all([
    produce(TOPICS.access, count, (i) => ({ value: accessLogLine(offset + i) }), PARTITIONS),
    produce(TOPICS.events, count, (i) => ({ key: `order-${String(offset + i)}`, value: appEvent(offset + i) }), PARTITIONS),
    produce(TOPICS.nested, count, (i) => ({ value: nestedEvent(offset + i) }), PARTITIONS),
  ]);
}

function sum(scrape: string, name: string): number {
  return metricValues(scrape, name).reduce((total, s) => total + s.value, 0);
}

async function main(): Promise<void> {
  console.log(`demo: fresh topics ${ALL.join(", ")} (${String(PARTITIONS)} partitions each)`);
  await resetTopicsAndIndices();
  const backlog = Math.floor(PER_TOPIC * 0.6);
  console.log(`demo: producing a backlog of ${fmt(backlog * 3)} records (access-log lines, JSON events, nested JSON)`);
  await produceAll(backlog, 0);
  await produce(TOPICS.events, POISON, (i) => ({ key: `poison-${String(i)}`, value: JSON.stringify({ level: "info", service: "checkout", duration_ms: { slow: true, i } }) }), PARTITIONS);

  const group = `demo-${Date.now().toString(36)}`;
  const worker = new WorkerProcess({
    KAFKA_TOPIC_PATTERN: "demo-.*",
    KAFKA_GROUP_ID: group,
    DLQ_TOPIC: DEAD_LETTERS,
    KAFKA_LAG_INTERVAL_MS: "1000",
    METRICS_PORT,
    LOG_LEVEL: process.env.LOG_LEVEL ?? "info",
  });
  process.on("SIGINT", () => { worker.kill("SIGTERM"); });
  await worker.ready(90_000);
  console.log(`demo: worker started (group ${group}); metrics at http://127.0.0.1:${String(worker.metricsPort)}/metrics, /healthz, /readyz`);

  // The rest of the traffic arrives while the worker runs, as it would in production.
  const total = PER_TOPIC * 3 + POISON;
  const producer = { running: true };
  const live = produceAll(PER_TOPIC - backlog, backlog).finally(() => { producer.running = false; });

  const started = Date.now();
  let lastIndexed = 0;
  let lastAt = started;
  let peak = 0;
  for (;;) {
    await sleep(1000);
    const scrape = await worker.scrape();
    const indexed = sum(scrape, "kafka_es_transfer_records_indexed_total");
    const rejected = sum(scrape, "kafka_es_transfer_records_rejected_total");
    const deadLettered = sum(scrape, "kafka_es_transfer_records_dead_lettered_total");
    const lag = sum(scrape, "kafka_es_transfer_consumer_lag");
    const queued = sum(scrape, "kafka_es_transfer_queue_records");
    const now = Date.now();
    const rate = ((indexed - lastIndexed) * 1000) / (now - lastAt);
    peak = Math.max(peak, rate);
    lastIndexed = indexed;
    lastAt = now;
    console.log(`demo: ${fmt(indexed).padStart(9)} / ${fmt(total)} indexed  ${fmt(rate).padStart(7)} rec/s  lag ${fmt(lag).padStart(8)}  queue ${fmt(queued).padStart(6)}${rejected > 0 ? `  rejected ${fmt(rejected)} (dead-lettered ${fmt(deadLettered)})` : ""}${producer.running ? "  (producer running)" : ""}`);
    if (!producer.running && indexed + deadLettered >= total && lag === 0) break;
    if (now - started > 600_000) throw new Error("demo did not catch up within 10 minutes");
  }
  const seconds = (lastAt - started) / 1000;
  await live;
  const reconciliation = await worker.scrape();
  const exit = await worker.stop();
  console.log(`demo: worker stopped (exit code ${String(exit.code)}); ${fmt(total)} records in ${seconds.toFixed(1)} s: ${fmt(total / seconds)} rec/s on average, ${fmt(peak)} rec/s at peak`);

  const es = testElasticsearch();
  await es.indices.refresh({ index: ALL.join(",") });
  console.log("\ndocuments per index:");
  for (const index of ALL) {
    const { count } = await es.count({ index });
    console.log(`  ${index.padEnd(20)} ${fmt(count).padStart(8)}`);
  }
  const show = async (title: string, index: string, query: Record<string, unknown>) => {
    const result = await es.search({ index, query, size: 1 });
    const total = typeof result.hits.total === "number" ? result.hits.total : result.hits.total?.value;
    console.log(`\n${title}: ${fmt(total ?? 0)} hits; first:\n  ${JSON.stringify(result.hits.hits[0]?._source)}`);
  };
  await show('access-log lines with "500"', TOPICS.access, { match: { message: "500" } });
  await show("error events of the payments service", TOPICS.events, { bool: { filter: [{ term: { "level.keyword": "error" } }, { term: { "service.keyword": "payments" } }] } });
  await show('nested events with "http.request.method": "DELETE"', TOPICS.nested, { term: { "http.request.method.keyword": "DELETE" } });
  await es.close();

  const letters = await withAdmin((admin) => admin.fetchTopicOffsets(DEAD_LETTERS));
  const count = letters.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
  console.log(`\ndead-letter topic ${DEAD_LETTERS}: ${fmt(count)} records (mapping conflicts; headers source.*, error.*)`);
  console.log("reconciliation per topic (consumed = indexed + dead-lettered + skipped):");
  for (const topic of ALL) {
    const consumed = metricSum(reconciliation, "kafka_es_transfer_records_consumed_total", { topic });
    const settled = ["indexed", "dead_lettered", "skipped"].map((outcome) => metricSum(reconciliation, "kafka_es_transfer_records_settled_total", { topic, outcome }));
    console.log(`  ${topic.padEnd(20)} ${fmt(consumed)} = ${settled.map(fmt).join(" + ")}`);
  }
  console.log(`fix the cause, then: DLQ_TOPIC=${DEAD_LETTERS} kafka-es-transfer redrive`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
