/**
 * Cluster fault: a replication-factor-1 topic whose only broker is down, while two
 * replication-factor-3 topics keep flowing. Their records must all be indexed and
 * committed while that broker is down (a leaderless partition must hold only itself:
 * not the group, the lag monitor nor the seeding of the other partitions); then the
 * broker returns and the RF-1 topic completes. Every record once, offsets never back.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { createClusterTopics, produceThroughFaults, startAllBrokers, startBroker, stopBroker } from "../support/cluster.ts";
import { assertFaultOutcome, FaultSampler, faultRecord, faultWorkerEnv } from "../support/fault-checks.ts";
import { suiteFixture } from "../support/fixture.ts";
import { waitForCommittedAtEnd } from "../support/kafka.ts";
import { peakRssMiB } from "../support/peak-memory.ts";
import { WorkerProcess, withWorkers } from "../support/worker.ts";

const CHUNK = 3_000;
const PARTITIONS = 3;
const LONELY_NODE = 3;

describe("cluster fault: the only broker of an RF-1 topic down", () => {
  const { es, name, groupId } = suiteFixture("cluster-rf1");
  const flowing = [`${name}-a`, `${name}-b`];
  const lonely = `${name}-lonely`;
  after(() => startAllBrokers());

  test("the RF-3 topics are indexed while the RF-1 topic's broker is down; then it completes", async (t) => {
    const started = Date.now();
    const workers: WorkerProcess[] = [];
    await withWorkers(() => workers, async () => {
      await createClusterTopics(flowing, PARTITIONS);
      await createClusterTopics([lonely], PARTITIONS, { onlyNode: LONELY_NODE });
      for (const topic of [...flowing, lonely]) await produceThroughFaults(topic, 0, CHUNK, faultRecord, PARTITIONS);
      const all = [...flowing, lonely];
      workers.push(new WorkerProcess(faultWorkerEnv(all.join(","), groupId), ["start"], "A"));
      const sampler = new FaultSampler(groupId, flowing, () => workers);
      // stopped on failure too: its loop would keep the test file from ever ending
      try {
        await workers[0]?.ready();
        await waitForCommittedAtEnd(groupId, all, 90_000);

        const downAt = Date.now();
        await stopBroker(LONELY_NODE);
        for (const topic of flowing) await produceThroughFaults(topic, CHUNK, CHUNK, faultRecord, PARTITIONS);
        await waitForCommittedAtEnd(groupId, flowing, 90_000);
        const flowedMs = Date.now() - downAt;
        await startBroker(LONELY_NODE);
        const downMs = Date.now() - downAt;
        await produceThroughFaults(lonely, CHUNK, CHUNK, faultRecord, PARTITIONS);

        const outcomes = [];
        for (const topic of all) outcomes.push(await assertFaultOutcome({ es, index: topic, topic, groupId, produced: 2 * CHUNK, sampler, workers }));
        assert.ok(workers.every((w) => w.running), "the worker survived");
        const rss = peakRssMiB(workers[0]?.child.pid);
        t.diagnostic(`records ${String(outcomes.reduce((n, o) => n + o.records, 0))}, faults: node ${String(LONELY_NODE)} stopped ${String(downMs)} ms (RF-3 topics complete after ${String(flowedMs)} ms); max queue ${String(outcomes[0]?.sampler.maxQueueRecords)}; peak RSS ${String(rss)} MiB; duration ${String(Date.now() - started)} ms`);
      } finally {
        await sampler.stop();
      }
      for (const w of workers) assert.equal((await w.stop()).code, 0);
    });
  });
});
