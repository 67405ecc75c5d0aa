/**
 * Fault: the broker restarted twice (stopped and started again, each time within the
 * client's retries) while two workers consume, with records produced before, between
 * and after the restarts. Commits fail and are retried, fetches resume, nothing is
 * lost or moved back, and in the end every record is there once.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { assertFaultOutcome, FaultSampler, faultRecord, faultWorkerEnv } from "../support/fault-checks.ts";
import { suiteFixture } from "../support/fixture.ts";
import { createTopics, produce } from "../support/kafka.ts";
import { startKafka, stopKafka } from "../support/services.ts";
import { WorkerProcess, withWorkers } from "../support/worker.ts";

const CHUNK = 6_000;
const PARTITIONS = 4;
const RESTARTS = 2;

describe("fault: broker restarts", () => {
  const { es, name: topic, groupId } = suiteFixture("fault-restarts");
  after(() => startKafka());

  test("two broker restarts while consuming: every record once, offsets never back", async (t) => {
    const started = Date.now();
    const workers: WorkerProcess[] = [];
    await withWorkers(() => workers, async () => {
      await createTopics([topic], PARTITIONS);
      await produce(topic, CHUNK, faultRecord, PARTITIONS, 500);
      const env = faultWorkerEnv(topic, groupId);
      workers.push(new WorkerProcess(env, ["start"], "A"), new WorkerProcess(env, ["start"], "B"));
      const sampler = new FaultSampler(groupId, [topic], () => workers);
      await Promise.all(workers.map((w) => w.ready()));
      const downMs: number[] = [];
      for (let restart = 1; restart <= RESTARTS; restart++) {
        const stoppedAt = Date.now();
        await stopKafka();
        await startKafka();
        downMs.push(Date.now() - stoppedAt);
        await produce(topic, CHUNK, (i) => faultRecord(restart * CHUNK + i), PARTITIONS, 500);
      }
      const produced = (RESTARTS + 1) * CHUNK;

      const outcome = await assertFaultOutcome({ es, index: topic, topic, groupId, produced, sampler, workers });
      assert.ok(workers.every((w) => w.running), "both workers survived the restarts");
      t.diagnostic(`records ${String(outcome.records)}, faults: ${String(RESTARTS)} broker restarts (down ${downMs.join(" ms, ")} ms); max queue ${String(outcome.sampler.maxQueueRecords)}; duration ${String(Date.now() - started)} ms`);
      for (const w of workers) assert.equal((await w.stop()).code, 0);
    });
  });
});
