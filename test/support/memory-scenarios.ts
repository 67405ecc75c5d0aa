/**
 * The memory scenarios of issue 17, on one broker (test/faults) and on the three-broker
 * cluster (test/cluster): a backlog read with throughput-tuned fetch sizes, and binary
 * records through a 429 storm with large bulk requests. Both run one worker under the
 * launchers' heap flags until committed == end (or its death), then check that every
 * record was indexed once and report the worker's peak memory beside the memory
 * model's plan.
 */
import assert from "node:assert/strict";
import { after, type TestContext } from "node:test";
import type { Client } from "@elastic/elasticsearch";
import { binaryValue, produceLineBacklog } from "./backlogs.ts";
import { drainedOrFail } from "./drain-checks.ts";
import { countDocuments, getSource } from "./elasticsearch.ts";
import { ES_NODE, waitFor } from "./env.ts";
import { faultProxyPort, startEsFaultProxy } from "./es-fault-proxy.ts";
import { endOffsets, produce } from "./kafka.ts";
import { describePeak, memoryModelLine } from "./peak-memory.ts";
import { modelAgainstPeak, parseGcTrace, plannedHeapOf, TRACED_NODE_FLAGS } from "./gc-trace.ts";
import { WORKER_ENTRY, WorkerProcess, withWorkers } from "./worker.ts";

const MIB = 2 ** 20;

export interface MemoryScenario {
  readonly es: Client;
  readonly topic: string;
  readonly groupId: string;
  readonly partitions: number;
  /** Creates `topic` with `partitions` partitions (one broker, or the cluster's RF 3). */
  readonly createTopic: () => Promise<void>;
}

async function indexedOnce(es: Client, topic: string, records: number): Promise<void> {
  await es.indices.refresh({ index: topic });
  await waitFor("every record indexed once", async () => ((await countDocuments(es, topic)) === records ? true : undefined), 120_000, 1_000);
}

/**
 * `total` records of `recordBytes` bytes, then one worker with KAFKA_MAX_BYTES=50 MiB,
 * KAFKA_MAX_BYTES_PER_PARTITION=10 MiB and QUEUE_MAX_BYTES=200 MiB (valid, tuned for
 * throughput); `check` looks at the drained worker's log. Reports the memory model's line,
 * the records, the durations and the peak memory.
 */
export async function runBacklogDrain(t: TestContext, s: MemoryScenario & { total: number; recordBytes: number; drainMs: number; check: (worker: WorkerProcess) => void }): Promise<void> {
  const started = Date.now();
  let worker: WorkerProcess | undefined;
  await withWorkers(() => [worker], async () => {
    await s.createTopic();
    await produceLineBacklog(s.topic, s.partitions, s.total, s.recordBytes);
    const ends = await endOffsets(s.topic);
    assert.equal([...ends.values()].reduce((a, b) => a + b, 0n), BigInt(s.total));
    const producedMs = Date.now() - started;
    const w = new WorkerProcess({
      KAFKA_TOPICS: s.topic,
      KAFKA_GROUP_ID: s.groupId,
      KAFKA_MAX_BYTES: String(50 * MIB),
      KAFKA_MAX_BYTES_PER_PARTITION: String(10 * MIB),
      QUEUE_MAX_BYTES: String(200 * MIB),
    }, ["start"], "worker", WORKER_ENTRY, TRACED_NODE_FLAGS);
    worker = w;
    const peak = await drainedOrFail(w, s.groupId, s.topic, s.drainMs);
    const drainedMs = Date.now() - started - producedMs;
    t.diagnostic(memoryModelLine(w));
    s.check(w);
    await indexedOnce(s.es, s.topic, s.total);
    t.diagnostic(`records ${String(s.total)} of ${String(s.recordBytes)} bytes on ${String(s.partitions)} partitions, faults: none (throughput-tuned fetch sizes); ` +
      `produced in ${String(producedMs)} ms, drained in ${String(drainedMs)} ms; worker ${describePeak(peak)}`);
    assert.equal((await w.stop()).code, 0);
    // the plan beside the heap the collector saw (issue 17: the model is a tight upper bound)
    t.diagnostic(modelAgainstPeak(plannedHeapOf(w.logs), parseGcTrace(w.stderr)));
  });
}

export const STORM_RECORDS = 3_000;
const VALUE_BYTES = 16 * 1024;
const STORM_MS = 20_000;

/**
 * 3,000 binary (not UTF-8) records of 16 KiB, then one worker with BULK_MAX_BYTES=15 MiB
 * writing through a proxy that answers every bulk request 429 for 20 s. The documents
 * keep the bytes in base64.
 */
export async function runBinaryStorm(t: TestContext, s: MemoryScenario): Promise<void> {
  const started = Date.now();
  const proxy = await startEsFaultProxy({ target: ES_NODE, port: faultProxyPort(ES_NODE), seed: 17 });
  after(() => proxy.close());
  let worker: WorkerProcess | undefined;
  await withWorkers(() => [worker], async () => {
    await s.createTopic();
    // 200 records of 16 KiB a request, spread over the partitions: under the broker's 1 MiB batch limit
    await produce(s.topic, STORM_RECORDS, (i) => ({ value: binaryValue(i, VALUE_BYTES) }), s.partitions, 200);
    proxy.schedule([{ durationMs: STORM_MS, requestStatus: 429 }]);
    const w = new WorkerProcess({ KAFKA_TOPICS: s.topic, KAFKA_GROUP_ID: s.groupId, ES_NODE: proxy.url, BULK_MAX_BYTES: String(15 * MIB) }, ["start"], "worker", WORKER_ENTRY, TRACED_NODE_FLAGS);
    worker = w;
    const peak = await drainedOrFail(w, s.groupId, s.topic, 300_000);
    assert.ok(proxy.stats.injectedRequests["429"] > 0, "the storm refused bulk requests");
    await indexedOnce(s.es, s.topic, STORM_RECORDS);
    const doc = await getSource(s.es, s.topic, `${s.topic}-1-1`);
    assert.deepEqual(Buffer.from(String(doc?.message_base64), "base64"), binaryValue(1 * s.partitions + 1, VALUE_BYTES), "the document keeps the bytes in base64");
    assert.equal(typeof doc?.message, "string");
    t.diagnostic(memoryModelLine(w));
    t.diagnostic(`records ${String(STORM_RECORDS)} binary of ${String(VALUE_BYTES)} bytes on ${String(s.partitions)} partitions, faults: ${String(proxy.stats.injectedRequests["429"])} bulk requests answered 429 over ${String(STORM_MS)} ms; ` +
      `duration ${String(Date.now() - started)} ms; worker ${describePeak(peak)}`);
    assert.equal((await w.stop()).code, 0);
    // the plan beside the heap the collector saw (issue 17: the model is a tight upper bound)
    t.diagnostic(modelAgainstPeak(plannedHeapOf(w.logs), parseGcTrace(w.stderr)));
  });
}
