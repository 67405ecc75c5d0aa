/**
 * `make bench-hold`: the rate of the healthy topics while another topic's index is
 * closed (issue 16). One worker reads three topics A, B, C; each phase drains a fresh
 * backlog of BENCH_HOLD_RECORDS records per topic with a new worker process of the same
 * group: "before" (every index open), "during" (A's index closed: A is held), "after"
 * (A reopened: its held records and the new ones). It prints the documents per second
 * of B + C in each phase (and of A when it flows), measured from the worker being
 * ready to B and C's last document. Small counts: a figure, not a stress test.
 *
 * Environment: BENCH_HOLD_RECORDS (20000), BENCH_PARTITIONS (3), BENCH_WORKER_ENV
 * (NAME=value;... for the worker).
 */
import type { Client } from "@elastic/elasticsearch";
import { testElasticsearch } from "../support/elasticsearch.ts";
import { sleep } from "../support/env.ts";
import { produce } from "../support/kafka.ts";
import { metricSum, WorkerProcess } from "../support/worker.ts";
import { BENCH_PREFIX, createIndex, createTopic, deleteGroups, deleteIndex, deleteTopics } from "./servers.ts";
import { parseWorkerEnv } from "./settings.ts";

const RECORDS = Number(process.env.BENCH_HOLD_RECORDS ?? 20_000);
const PARTITIONS = Number(process.env.BENCH_PARTITIONS ?? 3);
const PHASE_TIMEOUT_MS = 600_000;

interface PhaseResult {
  readonly phase: string;
  readonly healthyPerSecond: number;
  readonly heldTopicPerSecond: number | undefined;
}

const record = (i: number): { value: string } => ({ value: JSON.stringify({ seq: i, message: `bench record ${String(i)} ${"x".repeat(120)}` }) });

/** Drains one backlog with a fresh worker process; `aTarget` undefined: A is held and not waited for. */
async function phase(name: string, topics: readonly string[], groupId: string, targets: { healthy: number; a: number | undefined }): Promise<PhaseResult> {
  const [a, b, c] = topics as [string, string, string];
  for (const topic of topics) await produce(topic, RECORDS, record, PARTITIONS);
  const worker = new WorkerProcess({ ...parseWorkerEnv(process.env.BENCH_WORKER_ENV), KAFKA_TOPICS: topics.join(","), KAFKA_GROUP_ID: groupId, LOG_LEVEL: "info" }, ["start"], name);
  try {
    await worker.ready(60_000);
    const started = performance.now();
    let healthyMs: number | undefined;
    let aMs: number | undefined;
    while (performance.now() - started < PHASE_TIMEOUT_MS) {
      const scrape = await worker.scrape();
      const healthy = metricSum(scrape, "kafka_es_transfer_records_indexed_total", { index: b }) + metricSum(scrape, "kafka_es_transfer_records_indexed_total", { index: c });
      const held = metricSum(scrape, "kafka_es_transfer_records_indexed_total", { index: a });
      if (healthyMs === undefined && healthy >= targets.healthy) healthyMs = performance.now() - started;
      if (aMs === undefined && targets.a !== undefined && held >= targets.a) aMs = performance.now() - started;
      if (healthyMs !== undefined && (targets.a === undefined || aMs !== undefined)) break;
      await sleep(100);
    }
    if (healthyMs === undefined) throw new Error(`${name}: B and C did not get their ${String(targets.healthy)} documents`);
    return { phase: name, healthyPerSecond: targets.healthy / (healthyMs / 1000), heldTopicPerSecond: aMs === undefined || targets.a === undefined ? undefined : targets.a / (aMs / 1000) };
  } finally {
    await worker.stop(60_000);
  }
}

async function main(): Promise<void> {
  const es: Client = testElasticsearch();
  const name = `${BENCH_PREFIX}hold-${Date.now().toString(36)}`;
  const topics = ["a", "b", "c"].map((t) => `${name}-${t}`);
  const [a] = topics as [string];
  const groupId = `${name}-group`;
  try {
    for (const topic of topics) {
      await createTopic(topic, PARTITIONS);
      await createIndex(es, topic);
    }
    const results: PhaseResult[] = [];
    results.push(await phase("before", topics, groupId, { healthy: 2 * RECORDS, a: RECORDS }));
    await es.indices.close({ index: a });
    results.push(await phase("during", topics, groupId, { healthy: 2 * RECORDS, a: undefined }));
    await es.indices.open({ index: a, wait_for_active_shards: 1 });
    // A's held backlog (RECORDS) comes first in its partitions, then this phase's.
    results.push(await phase("after", topics, groupId, { healthy: 2 * RECORDS, a: 2 * RECORDS }));
    const base = results[0]?.healthyPerSecond ?? 1;
    console.log(`\nbench-hold: ${String(RECORDS)} records per topic and phase, ${String(PARTITIONS)} partitions, one worker`);
    for (const r of results) {
      const held = r.heldTopicPerSecond === undefined ? "held" : `${r.heldTopicPerSecond.toFixed(0)} docs/s`;
      console.log(`${r.phase.padEnd(7)} B+C ${r.healthyPerSecond.toFixed(0).padStart(7)} docs/s (${((100 * r.healthyPerSecond) / base).toFixed(0)} % of before)   A ${held}`);
    }
  } finally {
    for (const topic of topics) await deleteIndex(es, topic).catch(() => undefined);
    await deleteTopics(topics).catch(() => undefined);
    await deleteGroups([groupId]).catch(() => undefined);
    await es.close();
  }
}

await main();
