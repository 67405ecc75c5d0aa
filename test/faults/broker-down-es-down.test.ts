/**
 * Fault: Elasticsearch is down (the fault proxy answers every bulk request 503), the
 * queue fills and fetching pauses; then the broker is stopped for longer than kafkajs
 * retries (8 retries, about 70 s), so the consumer crashes and kafkajs restarts it;
 * the broker comes back while Elasticsearch is still down, then Elasticsearch. The
 * restarted consumer must stay paused (the queue bound holds over a backlog far larger
 * than the bound), and in the end every record is there once.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { ES_NODE, waitFor } from "../support/env.ts";
import { faultProxyPort, startEsFaultProxy } from "../support/es-fault-proxy.ts";
import { assertFaultOutcome, FAULT_QUEUE_MAX_RECORDS, FaultSampler, faultRecord, faultWorkerEnv } from "../support/fault-checks.ts";
import { suiteFixture } from "../support/fixture.ts";
import { createTopics, produce } from "../support/kafka.ts";
import { startKafka, stopKafka } from "../support/services.ts";
import { metricSum, WorkerProcess, withWorkers } from "../support/worker.ts";

const N = 16_000;
const PARTITIONS = 4;
/** Longer than kafkajs's 8 retries (300 ms doubling, capped at 30 s: about 70 s). */
const BROKER_DOWN_MAX_MS = 120_000;
const ES_DOWN = { durationMs: 3_600_000, requestStatus: 503 } as const;

describe("fault: broker stopped past the client's retries while Elasticsearch is down", () => {
  const { es, name: topic, groupId } = suiteFixture("fault-brokerdown");
  // However the test ends, the broker must run again for the next suite.
  after(() => startKafka());

  test("the restarted consumer keeps the queue bound; nothing lost or duplicated", async (t) => {
    const started = Date.now();
    const proxy = await startEsFaultProxy({ target: ES_NODE, port: faultProxyPort(ES_NODE) });
    after(() => proxy.close());
    let worker: WorkerProcess | undefined;
    await withWorkers(() => [worker], async () => {
      await createTopics([topic], PARTITIONS);
      await produce(topic, N, faultRecord, PARTITIONS, 500);
      proxy.schedule([ES_DOWN]);
      const w = new WorkerProcess(faultWorkerEnv(topic, groupId, { ES_NODE: proxy.url }), ["start"], "worker");
      worker = w;
      const sampler = new FaultSampler(groupId, [topic], () => [w]);
      await w.ready();
      await waitFor("the queue full and fetching paused", async () => {
        const scrape = await w.scrape();
        return metricSum(scrape, "kafka_es_transfer_queue_records") >= FAULT_QUEUE_MAX_RECORDS &&
          metricSum(scrape, "kafka_es_transfer_paused_partitions") > 0 ? true : undefined;
      }, 60_000, 500);

      await stopKafka();
      const stoppedAt = Date.now();
      const crash = await w.waitForLog((l) => l.msg === "kafka consumer crashed; restarting it", BROKER_DOWN_MAX_MS);
      t.diagnostic(`kafkajs gave up ${String(Date.now() - stoppedAt)} ms after the broker stopped`);
      await startKafka();
      t.diagnostic(`broker down for ${String(Date.now() - stoppedAt)} ms`);
      // Rejoined while Elasticsearch is still down: now the restarted consumer must stay paused.
      await w.waitForLogAfter(crash, (l) => l.msg === "partitions assigned", 120_000);
      const rejoinedAt = Date.now();
      await waitFor("10 s after the rejoin", () => (Date.now() - rejoinedAt > 10_000 ? true : undefined), 20_000, 500);
      proxy.schedule([]);

      const outcome = await assertFaultOutcome({ es, index: topic, topic, groupId, produced: N, sampler, workers: [w] });
      assert.ok(proxy.stats.injectedRequests["503"] > 0, "Elasticsearch was down for the worker");
      t.diagnostic(`records ${String(outcome.records)}, faults: ${String(proxy.stats.injectedRequests["503"])} bulk requests answered 503, 1 broker stop past retries (1 consumer crash); max queue ${String(outcome.sampler.maxQueueRecords)}; duration ${String(Date.now() - started)} ms`);
      assert.equal((await w.stop()).code, 0);
    });
  });
});
