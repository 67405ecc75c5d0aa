/**
 * Fault: Elasticsearch frozen (SIGSTOP of its JVM: connections stay open, nothing
 * answers) for 20 s while records keep coming. Bulk requests time out (and may still
 * be applied once it wakes up), the workers retry them, the queue bound holds, and
 * after SIGCONT every record is there exactly once (deterministic ids).
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { sleep } from "../support/env.ts";
import { assertFaultOutcome, FaultSampler, faultRecord, faultWorkerEnv } from "../support/fault-checks.ts";
import { suiteFixture } from "../support/fixture.ts";
import { createTopics, produceOverTime } from "../support/kafka.ts";
import { elasticsearchPid } from "../support/services.ts";
import { metricSum, WorkerProcess, withWorkers } from "../support/worker.ts";

const N = 16_000;
const PARTITIONS = 4;
const FROZEN_MS = 20_000;

describe("fault: Elasticsearch frozen", () => {
  const { es, name: topic, groupId } = suiteFixture("fault-esfrozen");

  test("20 s of SIGSTOP: requests time out and are retried; every record once after SIGCONT", async (t) => {
    const started = Date.now();
    const pid = await elasticsearchPid();
    // Whatever happens to the test, Elasticsearch must run again afterwards.
    after(() => {
      process.kill(pid, "SIGCONT");
    });
    const workers: WorkerProcess[] = [];
    await withWorkers(() => workers, async () => {
      await createTopics([topic], PARTITIONS);
      const w = new WorkerProcess(faultWorkerEnv(topic, groupId, { ES_REQUEST_TIMEOUT_MS: "3000" }), ["start"], "worker");
      workers.push(w);
      const sampler = new FaultSampler(groupId, [topic], () => workers);
      await w.ready();
      const producing = produceOverTime(topic, N, 20_000, faultRecord, PARTITIONS, 500);
      await sleep(3_000);
      process.kill(pid, "SIGSTOP");
      const frozenAt = Date.now();
      try {
        await sleep(FROZEN_MS);
      } finally {
        process.kill(pid, "SIGCONT");
      }
      t.diagnostic(`Elasticsearch frozen for ${String(Date.now() - frozenAt)} ms`);
      await producing;

      const outcome = await assertFaultOutcome({ es, index: topic, topic, groupId, produced: N, sampler, workers });
      const scrape = await w.scrape();
      const failed = metricSum(scrape, "kafka_es_transfer_bulk_requests_total", { outcome: "failed" });
      assert.ok(failed > 0, "bulk requests failed (timed out) while Elasticsearch was frozen");
      t.diagnostic(`records ${String(outcome.records)}, faults: Elasticsearch frozen ${String(FROZEN_MS)} ms, ${String(failed)} bulk requests timed out; max queue ${String(outcome.sampler.maxQueueRecords)}; duration ${String(Date.now() - started)} ms`);
      assert.equal((await w.stop()).code, 0);
    });
  });
});
