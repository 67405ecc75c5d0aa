/**
 * Issue 16, item 2: records waiting on an unwritable dead-letter topic hold their
 * partition, not the worker. Topic A has records Elasticsearch rejects for good (a
 * metadata field in the document); the dead-letter topic does not exist yet. Topic B
 * keeps flowing; A's partitions are held (reason dead_letter_unwritable) and never
 * committed past the first record waiting for the dead-letter topic; once the topic
 * exists, the next probe dead-letters them: documents + dead letters == records.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { readTopic } from "../support/dead-letters.ts";
import { countDocuments } from "../support/elasticsearch.ts";
import { waitFor } from "../support/env.ts";
import { faultRecord, faultWorkerEnv } from "../support/fault-checks.ts";
import { suiteFixture } from "../support/fixture.ts";
import { committedOffsets, createTopics, produce, waitForCommittedAtEnd, withAdmin } from "../support/kafka.ts";
import { metricSum, WorkerProcess, withWorkers } from "../support/worker.ts";

const PARTITIONS = 2;
const N = 2_000;
const TIMEOUT_MS = 120_000;
const isPoison = (i: number): boolean => i % 100 === 37 || i % 100 === 62;

describe("fault: the dead-letter topic cannot be written while one topic has rejected records", () => {
  const { es, name, groupId } = suiteFixture("held-dlq");
  const [poisoned, clean, dlq] = ["a", "b", "dlq"].map((t) => `${name}-${t}`) as [string, string, string];

  test("only the partitions waiting for the dead-letter topic are held; the other topic flows; all settled once it exists", async (t) => {
    let worker: WorkerProcess | undefined;
    await withWorkers(() => [worker], async () => {
      await createTopics([poisoned, clean], PARTITIONS);
      const w = new WorkerProcess({ ...faultWorkerEnv(`${poisoned},${clean}`, groupId), DLQ_TOPIC: dlq });
      worker = w;
      await w.ready();
      // Round-robin over the partitions: record i goes to partition i % PARTITIONS, at offset floor(i / PARTITIONS).
      await produce(poisoned, N, (i) => (isPoison(i) ? { value: JSON.stringify({ _id: "not-allowed", seq: i }) } : faultRecord(i)), PARTITIONS);
      await produce(clean, N, faultRecord, PARTITIONS);

      await waitFor(`${clean} indexed while ${poisoned} waits for the dead-letter topic`, async () => ((await countDocuments(es, clean)) >= N ? true : undefined), TIMEOUT_MS, 500);
      await waitFor("held for the dead-letter topic", async () => (metricSum(await w.scrape(), "kafka_es_transfer_partitions_held", { topic: poisoned, reason: "dead_letter_unwritable" }) > 0 ? true : undefined), TIMEOUT_MS, 500);
      await withAdmin(async (admin) => {
        for (const [partition, offset] of await committedOffsets(admin, groupId, poisoned)) {
          // The first poison record of each partition: the smallest i with isPoison(i) and i % PARTITIONS == partition.
          let first = 0;
          while (!(isPoison(first) && first % PARTITIONS === partition)) first++;
          const limit = BigInt(Math.floor(first / PARTITIONS));
          assert.ok(offset <= limit, `${poisoned}[${String(partition)}] committed ${String(offset)} past its first record waiting for the dead-letter topic (${String(limit)})`);
        }
      });

      await createTopics([dlq], 1);
      await waitForCommittedAtEnd(groupId, [poisoned, clean], TIMEOUT_MS);
      const poisonCount = Array.from({ length: N }, (_, i) => i).filter(isPoison).length;
      const letters = new Set((await readTopic(dlq)).map((l) => `${l.headers["source.partition"] ?? ""}/${l.headers["source.offset"] ?? ""}`));
      assert.equal(letters.size, poisonCount, "every rejected record dead-lettered");
      assert.equal(await countDocuments(es, poisoned), N - poisonCount, "documents + dead letters == records");
      assert.equal(await countDocuments(es, clean), N);
      const heldLines = w.logs.filter((l) => l.msg.startsWith("partition held:") || l.msg.startsWith("partition released:")).map((l) => `${l.msg.split(":")[0] ?? ""} [${String(l.partition)}]`);
      t.diagnostic(`${String(poisonCount)} dead letters; ${heldLines.join("; ")}`);
      assert.equal((await w.stop()).code, 0);
    });
  });
});
