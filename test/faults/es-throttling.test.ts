/**
 * Fault: Elasticsearch overloaded, through the fault proxy, while records keep coming:
 * whole bulk requests answered 429, then 503, then 30% of the items of every bulk
 * request answered 429 (and really not written), then both at once. The workers retry
 * only what failed, hold their queue bound, and in the end every record is there once.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { ES_NODE } from "../support/env.ts";
import { faultProxyPort, startEsFaultProxy } from "../support/es-fault-proxy.ts";
import { assertFaultOutcome, FaultSampler, faultRecord, faultWorkerEnv } from "../support/fault-checks.ts";
import { suiteFixture } from "../support/fixture.ts";
import { createTopics, produceOverTime } from "../support/kafka.ts";
import { metricSum, WorkerProcess, withWorkers } from "../support/worker.ts";

const N = 16_000;
const PARTITIONS = 4;

describe("fault: Elasticsearch answering 429 and 503", () => {
  const { es, name: topic, groupId } = suiteFixture("fault-throttle");

  test("request-level 429/503 and item 429s: retried until every record is there once", async (t) => {
    const started = Date.now();
    const proxy = await startEsFaultProxy({ target: ES_NODE, port: faultProxyPort(ES_NODE), seed: 42 });
    after(() => proxy.close());
    const workers: WorkerProcess[] = [];
    await withWorkers(() => workers, async () => {
      await createTopics([topic], PARTITIONS);
      const env = faultWorkerEnv(topic, groupId, { ES_NODE: proxy.url });
      workers.push(new WorkerProcess(env, ["start"], "A"), new WorkerProcess(env, ["start"], "B"));
      const sampler = new FaultSampler(groupId, [topic], () => workers);
      await Promise.all(workers.map((w) => w.ready()));
      proxy.schedule([
        { durationMs: 5_000, requestStatus: 429, requestRatio: 0.7 },
        { durationMs: 5_000, requestStatus: 503, requestRatio: 0.7 },
        { durationMs: 6_000, itemRejectRatio: 0.3 },
        { durationMs: 6_000, requestStatus: 429, requestRatio: 0.3, itemRejectRatio: 0.3 },
      ]);
      await produceOverTime(topic, N, 15_000, faultRecord, PARTITIONS, 500);
      await proxy.scheduleDone();

      const outcome = await assertFaultOutcome({ es, index: topic, topic, groupId, produced: N, sampler, workers });
      const { injectedRequests, injectedItemRejections } = proxy.stats;
      assert.ok(injectedRequests["429"] > 0 && injectedRequests["503"] > 0 && injectedItemRejections > 0, "every kind of fault was injected");
      let retried = 0;
      for (const w of workers) retried += metricSum(await w.scrape(), "kafka_es_transfer_records_retried_total");
      assert.ok(retried >= injectedItemRejections, "every refused item was retried");
      t.diagnostic(`records ${String(outcome.records)}, faults: ${String(injectedRequests["429"])} requests 429, ${String(injectedRequests["503"])} requests 503, ${String(injectedItemRejections)} items 429; ${String(retried)} records retried; max queue ${String(outcome.sampler.maxQueueRecords)}; duration ${String(Date.now() - started)} ms`);
      for (const w of workers) assert.equal((await w.stop()).code, 0);
    });
  });
});
