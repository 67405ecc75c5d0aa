/**
 * A compacted topic's gaps are not records lost to retention (issue 17, item 6), with
 * the log cleaner forced to run. Each round writes one record batch of 50: 40 keys of
 * their own, then 10 keys every round repeats, so compaction removes the tail of every
 * batch but the last. Fetching one batch per response (KAFKA_MAX_BYTES_PER_PARTITION=1)
 * the next fetch lands in the removed tail: kafkajs steps over it without handing the
 * reader a batch, and the following fetch starts above the position the reader
 * tracked. Before, that skip was counted in records_lost_to_retention_total and logged
 * as records deleted by retention; now only offsets below the log start count.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, test } from "node:test";
import { countDocuments } from "../support/elasticsearch.ts";
import { BROKERS, sleep, waitFor } from "../support/env.ts";
import { suiteFixture } from "../support/fixture.ts";
import { createTopics, produce, waitForCommittedAtEnd } from "../support/kafka.ts";
import { metricSum, WorkerProcess, withWorkers } from "../support/worker.ts";

const ROUNDS = 10;
const OWN = 40;
const HOT = 10;
const KEPT = ROUNDS * OWN + HOT;

/** Records a plain read of the topic returns now (kcat to the end). */
function recordsInTopic(topic: string): number {
  const out = spawnSync("kcat", ["-C", "-b", BROKERS.join(","), "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%o\n"], { encoding: "utf8", timeout: 30_000 });
  return out.stdout.split("\n").filter((l) => l !== "").length;
}

describe("compacted topic", () => {
  const { es, name: topic, groupId } = suiteFixture("compacted");

  test("gaps left by compaction are read over, never counted as lost to retention", async (t) => {
    let worker: WorkerProcess | undefined;
    await withWorkers(() => [worker], async () => {
      await createTopics([topic], 1, {
        "cleanup.policy": "compact", "segment.ms": "300", "min.cleanable.dirty.ratio": "0.01", "min.compaction.lag.ms": "0", "delete.retention.ms": "0",
      });
      for (let round = 0; round < ROUNDS; round++) {
        await produce(topic, OWN + HOT, (j) => ({ key: j < OWN ? `own-${String(round)}-${String(j)}` : `hot-${String(j - OWN)}`, value: JSON.stringify({ round, j }) }), 1, OWN + HOT);
        // A new segment per round: the cleaner compacts only segments no longer written to.
        await sleep(400);
      }
      await produce(topic, 1, () => ({ key: "roll", value: JSON.stringify({ roll: true }) }), 1);
      await waitFor("the cleaner compacted the topic", () => (recordsInTopic(topic) <= KEPT + 1 ? true : undefined), 120_000, 2_000);

      const w = new WorkerProcess({ KAFKA_TOPICS: topic, KAFKA_GROUP_ID: groupId, KAFKA_MAX_BYTES_PER_PARTITION: "1", KAFKA_MAX_BYTES: "65536" });
      worker = w;
      await waitForCommittedAtEnd(groupId, [topic], 120_000);
      const lost = metricSum(await w.scrape(), "kafka_es_transfer_records_lost_to_retention_total");
      const lostLines = w.logs.filter((l) => typeof l.msg === "string" && l.msg.startsWith("records were deleted by retention"));
      t.diagnostic(`${String(recordsInTopic(topic))} records left of ${String(ROUNDS * (OWN + HOT) + 1)} after compaction; lost_to_retention ${String(lost)}; ${String(lostLines.length)} lost lines`);
      assert.equal(lost, 0, "no record counted as lost to retention");
      assert.deepEqual(lostLines, []);
      await es.indices.refresh({ index: topic });
      assert.equal(await countDocuments(es, topic), KEPT + 1);
      assert.equal((await w.stop()).code, 0);
    });
  });
});
