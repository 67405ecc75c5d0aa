/**
 * What every fault scenario checks, all along and at the end (issue 8):
 * - sampled all along: the group's committed offsets never go backwards, and each
 *   worker's queue (`queue_records`: queued plus in flight) stays within its bound;
 * - at the end: committed == end offsets, every record in Elasticsearch exactly once
 *   (coordinate ids: documents == records in Kafka, every `seq` present once), and each
 *   running worker's lag gauge at 0.
 */
import assert from "node:assert/strict";
import type { Client } from "@elastic/elasticsearch";
import { logLevel, type Admin } from "kafkajs";
import { newKafkaClient } from "../../src/source/client/kafka-client.ts";
import { countDocuments, distinctValues } from "./elasticsearch.ts";
import { BROKERS, sleep, waitFor } from "./env.ts";
import { committedOffsets, recordsPerPartition, waitForCommittedAtEnd, withAdmin } from "./kafka.ts";
import { metricSum, type WorkerProcess } from "./worker.ts";

/** Settings every fault scenario's workers share: small bounds, so that breaking them shows. */
export const FAULT_QUEUE_MAX_RECORDS = 2_000;
export const FAULT_KAFKA_MAX_BYTES = 64 * 1024;
/** Bytes of each produced record's value (padded), so a fetch holds a known number of records. */
export const FAULT_RECORD_BYTES = 200;
/**
 * The queue bound is soft by one fetch: at most KAFKA_MAX_BYTES of records (about 330
 * here), plus, since a broker always returns at least one whole batch, up to one
 * producer batch per partition beyond it. Twice that, rounded up, is the slack allowed.
 */
export const FAULT_QUEUE_SLACK = 2_000;

export function faultWorkerEnv(topic: string, groupId: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    KAFKA_TOPICS: topic,
    KAFKA_GROUP_ID: groupId,
    QUEUE_MAX_RECORDS: String(FAULT_QUEUE_MAX_RECORDS),
    KAFKA_MAX_BYTES: String(FAULT_KAFKA_MAX_BYTES),
    KAFKA_LAG_INTERVAL_MS: "1000",
    KAFKA_COMMIT_INTERVAL_MS: "500",
    BULK_MAX_DOCUMENTS: "500",
    BULK_RETRY_MAX_MS: "2000",
    ...extra,
  };
}

/** A record of the fault scenarios: `seq` i, padded to FAULT_RECORD_BYTES. */
export function faultRecord(i: number): { value: string } {
  const head = JSON.stringify({ seq: i, pad: "" });
  return { value: `${head.slice(0, -2)}${"x".repeat(Math.max(0, FAULT_RECORD_BYTES - head.length))}"}` };
}

/** Sum of one metric in a worker's scrape, or undefined when it does not answer (frozen, gone). */
async function scrapeQuickly(worker: WorkerProcess, timeoutMs = 1_000): Promise<string | undefined> {
  if (!worker.running || worker.metricsPort === undefined) return undefined;
  try {
    const response = await fetch(`http://127.0.0.1:${String(worker.metricsPort)}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
    return await response.text();
  } catch {
    return undefined;
  }
}

export interface SamplerReport {
  readonly offsetSamples: number;
  readonly queueSamples: number;
  /** "topic[p]: a -> b" for every committed offset seen lower than before. */
  readonly backwards: readonly string[];
  readonly maxQueueRecords: number;
  /** Which worker held the most, for the message. */
  readonly maxQueueWorker: string;
}

/**
 * Samples committed offsets and the workers' queue gauges every `everyMs` until
 * `stop()`. Tolerates the broker being down (a failed sample is skipped, the admin
 * client made anew) and frozen workers (a scrape that does not answer is skipped).
 */
export class FaultSampler {
  readonly #groupId: string;
  readonly #topics: readonly string[];
  readonly #workers: () => readonly WorkerProcess[];
  readonly #everyMs: number;
  readonly #last = new Map<string, bigint>();
  readonly #backwards: string[] = [];
  #offsetSamples = 0;
  #queueSamples = 0;
  #maxQueueRecords = 0;
  #maxQueueWorker = "";
  #stopped = false;
  #admin: Admin | undefined;
  readonly #loop: Promise<void>;

  constructor(groupId: string, topics: readonly string[], workers: () => readonly WorkerProcess[], everyMs = 500) {
    this.#groupId = groupId;
    this.#topics = topics;
    this.#workers = workers;
    this.#everyMs = everyMs;
    this.#loop = this.#run();
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      await Promise.all([this.#sampleOffsets(), this.#sampleQueues()]);
      await sleep(this.#everyMs);
    }
    await this.#admin?.disconnect().catch(() => undefined);
  }

  async #sampleOffsets(): Promise<void> {
    try {
      this.#admin ??= await connectAdmin();
      for (const topic of this.#topics) {
        for (const [partition, offset] of await committedOffsets(this.#admin, this.#groupId, topic)) {
          const key = `${topic}[${String(partition)}]`;
          const previous = this.#last.get(key);
          if (offset < 0n) continue;
          if (previous !== undefined && offset < previous) this.#backwards.push(`${key}: ${String(previous)} -> ${String(offset)}`);
          if (previous === undefined || offset > previous) this.#last.set(key, offset);
        }
      }
      this.#offsetSamples++;
    } catch {
      // The broker is down or restarting: skip this sample, reconnect for the next.
      const admin = this.#admin;
      this.#admin = undefined;
      await admin?.disconnect().catch(() => undefined);
    }
  }

  async #sampleQueues(): Promise<void> {
    await Promise.all(this.#workers().map(async (worker) => {
      const scrape = await scrapeQuickly(worker);
      if (scrape === undefined) return;
      this.#queueSamples++;
      const records = metricSum(scrape, "kafka_es_transfer_queue_records");
      if (records > this.#maxQueueRecords) {
        this.#maxQueueRecords = records;
        this.#maxQueueWorker = worker.name;
      }
    }));
  }

  async stop(): Promise<SamplerReport> {
    this.#stopped = true;
    await this.#loop;
    return {
      offsetSamples: this.#offsetSamples,
      queueSamples: this.#queueSamples,
      backwards: [...this.#backwards],
      maxQueueRecords: this.#maxQueueRecords,
      maxQueueWorker: this.#maxQueueWorker,
    };
  }
}

async function connectAdmin(): Promise<Admin> {
  const kafka = newKafkaClient({
    clientId: "kafka-es-transfer-fault-sampler",
    brokers: BROKERS,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1_000,
    requestTimeout: 5_000,
    retry: { retries: 1, initialRetryTime: 200 },
  });
  const admin = kafka.admin();
  await admin.connect();
  return admin;
}

export interface FaultOutcome {
  readonly records: number;
  readonly sampler: SamplerReport;
}

/**
 * The end of every scenario: waits for committed == end offsets, then checks
 * Elasticsearch, the sampled history and the lag gauges of the workers still running.
 */
export async function assertFaultOutcome(params: {
  es: Client;
  index: string;
  topic: string;
  groupId: string;
  /** Distinct records produced (`seq` 0..produced-1). */
  produced: number;
  sampler: FaultSampler;
  workers: readonly WorkerProcess[];
  catchUpMs?: number;
}): Promise<FaultOutcome> {
  const { es, index, topic, groupId, produced } = params;
  await waitForCommittedAtEnd(groupId, [topic], params.catchUpMs ?? 90_000);
  const running = params.workers.filter((w) => w.running);
  for (const worker of running) {
    await waitFor(`lag gauge 0 on ${worker.name}`, async () => {
      const scrape = await scrapeQuickly(worker, 5_000);
      return scrape !== undefined && metricSum(scrape, "kafka_es_transfer_consumer_lag") === 0 ? true : undefined;
    }, 30_000, 500);
  }
  const sampler = await params.sampler.stop();
  const inKafka = await withAdmin(async (admin) => [...(await recordsPerPartition(admin, topic)).values()].reduce((a, b) => a + b, 0n));
  assert.equal(await countDocuments(es, index), Number(inKafka), "documents == records in Kafka (coordinate ids: each once)");
  const { distinct, duplicated } = await distinctValues(es, index, "seq");
  assert.equal(distinct, produced, "every produced record is there");
  if (Number(inKafka) === produced) assert.deepEqual(duplicated, [], "no record twice");
  assert.deepEqual(sampler.backwards, [], "committed offsets never went backwards");
  assert.ok(sampler.offsetSamples >= 5, `committed offsets were sampled (${String(sampler.offsetSamples)})`);
  assert.ok(sampler.queueSamples >= 5, `queue gauges were sampled (${String(sampler.queueSamples)})`);
  const bound = FAULT_QUEUE_MAX_RECORDS + FAULT_QUEUE_SLACK;
  assert.ok(
    sampler.maxQueueRecords <= bound,
    `the queue bound held: ${sampler.maxQueueWorker} held ${String(sampler.maxQueueRecords)} records (QUEUE_MAX_RECORDS=${String(FAULT_QUEUE_MAX_RECORDS)}, at most ${String(bound)} with one fetch)`,
  );
  return { records: Number(inKafka), sampler };
}
