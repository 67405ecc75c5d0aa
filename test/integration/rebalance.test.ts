/**
 * Rebalances under load: while a producer writes continuously, a second worker joins
 * the group and later leaves with SIGTERM. Throughout, no partition's committed offset
 * ever moves backwards (a late commit for a revoked partition would do that), and at
 * the end nothing is lost or duplicated.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { countDocuments, distinctValues, fieldStats } from "../support/elasticsearch.ts";
import { sleep, waitFor } from "../support/env.ts";
import { committedOffsets, createTopics, produceOverTime, testKafka, waitForCommittedAtEnd } from "../support/kafka.ts";
import { WorkerProcess, withWorkers } from "../support/worker.ts";
import { suiteFixture } from "../support/fixture.ts";

const N = 80_000;
const PARTITIONS = 6;
const PRODUCE_MS = 20_000;

describe("rebalance", () => {
  const { es, name: topic, groupId } = suiteFixture("rebal");

  test("a worker joins and leaves mid-run: committed offsets never go back, nothing lost", async (t) => {
    let a: WorkerProcess | undefined;
    let b: WorkerProcess | undefined;
    await withWorkers(() => [a, b], async () => {
      await createTopics([topic], PARTITIONS);
      const env = {
        KAFKA_TOPICS: topic,
        KAFKA_GROUP_ID: groupId,
        KAFKA_COMMIT_INTERVAL_MS: "200",
        KAFKA_HEARTBEAT_INTERVAL_MS: "1000",
      };
      a = new WorkerProcess({ ...env, KAFKA_CLIENT_ID: "worker-a" }, ["start"], "A");
      await a.ready();

      // The sampler: committed offsets every 200 ms, each compared with the previous sample.
      const admin = testKafka("rebalance-sampler").admin();
      await admin.connect();
      const highest = new Map<number, bigint>();
      const backwards: string[] = [];
      let samples = 0;
      const sampling = new AbortController();
      const sampler = (async () => {
        while (!sampling.signal.aborted) {
          try {
            const committed = await committedOffsets(admin, groupId, topic);
            samples++;
            for (const [partition, offset] of committed) {
              const before = highest.get(partition);
              if (before !== undefined && offset < before) backwards.push(`partition ${String(partition)}: ${String(before)} -> ${String(offset)} (sample ${String(samples)})`);
              if (before === undefined || offset > before) highest.set(partition, offset);
            }
          } catch {
            // A coordinator busy with the rebalance may refuse a fetch: try again next turn.
          }
          await sleep(200);
        }
      })();

      try {
        const producing = produceOverTime(topic, N, PRODUCE_MS, (i) => ({ value: JSON.stringify({ seq: i, at: Date.now() }) }), PARTITIONS, 1_000);
        await sleep(6_000);
        const worker = new WorkerProcess({ ...env, KAFKA_CLIENT_ID: "worker-b" }, ["start"], "B");
        b = worker;
        await worker.ready();
        // B's join made A give up partitions: A was assigned again, with fewer.
        const aShare = await a.waitForLog((l) => l.msg === "partitions assigned" && typeof l.assigned === "number" && l.assigned < PARTITIONS, 30_000);
        const bShare = worker.logsWith("partitions assigned").at(-1);
        t.diagnostic(`after B joined: A has ${String(aShare.assigned)}, B has ${String(bShare?.assigned)} partitions`);
        assert.equal(Number(aShare.assigned) + Number(bShare?.assigned), PARTITIONS);
        // B must do part of the work before it leaves: wait for its first indexed records
        // (bounded) rather than a fixed pause, which a loaded machine can outlast.
        const bIndexed = await waitFor("B's first indexed records", async () => {
          const indexed = await worker.metric("kafka_es_transfer_records_indexed_total");
          return indexed > 0 ? indexed : undefined;
        }, 45_000, 500).catch(() => 0);
        if (bIndexed === 0) t.diagnostic(`B:\n${worker.tail(60)}\nA:\n${a.tail(40)}`);
        assert.ok(bIndexed > 0, "B did part of the work before leaving");
        const exit = await worker.stop(45_000);
        assert.deepEqual(exit, { code: 0, signal: null }, "B leaves cleanly with exit code 0");
        // A takes every partition back.
        await a.waitForLogAfter(aShare, (l) => l.msg === "partitions assigned" && l.assigned === PARTITIONS, 60_000);
        await producing;
        await waitForCommittedAtEnd(groupId, [topic], 120_000);
      } finally {
        sampling.abort();
        await sampler;
        await admin.disconnect();
      }
      t.diagnostic(`${String(samples)} samples of the committed offsets`);
      assert.ok(samples > 50, "the sampler ran throughout");
      assert.deepEqual(backwards, [], "no committed offset moved backwards");

      assert.equal(await countDocuments(es, topic), N);
      const stats = await fieldStats(es, topic, "seq");
      assert.deepEqual(stats, { count: N, sum: (N * (N - 1)) / 2, min: 0, max: N - 1 });
      const { distinct, duplicated } = await distinctValues(es, topic, "seq");
      assert.equal(distinct, N);
      assert.deepEqual(duplicated, []);
      assert.equal((await a.stop()).code, 0);
    });
  });
});
