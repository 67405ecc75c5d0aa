/**
 * Issue 16, item 3: held work follows ownership. While topic A's index is closed and its
 * partitions are held by the first worker, a second worker joins (a rebalance moves
 * some of A's and B's partitions to it). B keeps flowing on both; A's committed offsets
 * never pass its first refused record; after the index is reopened every record is
 * there exactly once and committed == end, whoever owns what.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { countDocuments } from "../support/elasticsearch.ts";
import { waitFor } from "../support/env.ts";
import { faultRecord, faultWorkerEnv } from "../support/fault-checks.ts";
import { suiteFixture } from "../support/fixture.ts";
import { committedOffsets, createTopics, endOffsets, produce, waitForCommittedAtEnd, withAdmin } from "../support/kafka.ts";
import { metricSum, WorkerProcess, withWorkers } from "../support/worker.ts";

const PARTITIONS = 4;
const WAVES = [400, 2_000, 2_000];
const TIMEOUT_MS = 120_000;

describe("fault: a second member joins while a partition is held", () => {
  const { es, name, groupId } = suiteFixture("held-rebalance");
  const [held, flowing] = ["a", "b"].map((t) => `${name}-${t}`) as [string, string];

  test("the held partitions move with the rebalance; nothing is committed past the first refused record; all there once after the repair", async (t) => {
    const workers: WorkerProcess[] = [];
    await withWorkers(() => workers, async () => {
      await createTopics([held, flowing], PARTITIONS);
      const env = faultWorkerEnv(`${held},${flowing}`, groupId);
      const first = new WorkerProcess(env, ["start"], "A");
      workers.push(first);
      await first.ready();
      const [w1, w2, w3] = WAVES as [number, number, number];
      for (const topic of [held, flowing]) await produce(topic, w1, faultRecord, PARTITIONS);
      await waitForCommittedAtEnd(groupId, [held, flowing], TIMEOUT_MS);

      const firstRefused = await endOffsets(held);
      await es.indices.close({ index: held });
      for (const topic of [held, flowing]) await produce(topic, w2, faultRecord, PARTITIONS);
      await waitFor("B indexed while A is held", async () => ((await countDocuments(es, flowing)) >= w1 + w2 ? true : undefined), TIMEOUT_MS, 500);
      await waitFor("A held", async () => (metricSum(await first.scrape(), "kafka_es_transfer_partitions_held") > 0 ? true : undefined), TIMEOUT_MS, 500);

      const second = new WorkerProcess(env, ["start"], "B");
      workers.push(second);
      await second.ready();
      for (const topic of [held, flowing]) await produce(topic, w3, faultRecord, PARTITIONS);
      await waitFor("B indexed while A is held, across the rebalance", async () => ((await countDocuments(es, flowing)) >= w1 + w2 + w3 ? true : undefined), TIMEOUT_MS, 500);
      await waitFor("A held on the second worker too", async () => (metricSum(await second.scrape(), "kafka_es_transfer_partitions_held") > 0 ? true : undefined), TIMEOUT_MS, 500);
      await withAdmin(async (admin) => {
        for (const [partition, offset] of await committedOffsets(admin, groupId, held)) {
          const limit = firstRefused.get(partition) ?? 0n;
          assert.ok(offset <= limit, `${held}[${String(partition)}] committed ${String(offset)} past its first refused record ${String(limit)}`);
        }
      });

      await es.indices.open({ index: held, wait_for_active_shards: 1 });
      await waitForCommittedAtEnd(groupId, [held, flowing], TIMEOUT_MS);
      const total = w1 + w2 + w3;
      for (const topic of [held, flowing]) assert.equal(await countDocuments(es, topic), total, `${topic}: every record once`);
      for (const w of workers) assert.equal(await w.metric("kafka_es_transfer_records_rejected_total"), 0);
      t.diagnostic(`hold lines: ${workers.map((w) => `${w.name}: ${String(w.logs.filter((l) => l.msg.startsWith("partition held:")).length)} held, ${String(w.logs.filter((l) => l.msg.startsWith("partition no longer owned")).length)} dropped on revoke`).join("; ")}`);
      for (const w of workers) assert.equal((await w.stop()).code, 0);
    });
  });
});
