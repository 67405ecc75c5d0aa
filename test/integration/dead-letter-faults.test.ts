/**
 * The dead-letter topic cannot be written (it does not exist yet, then Kafka itself is
 * down and the worker dies): the rejected record is held, retried and alerted on, and
 * nothing is committed past it; once the topic exists, a new worker dead-letters it and
 * catches up. Never skipped, never lost.
 *
 * Stops and starts the shared Kafka: run under the exclusive servers lock.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { countDocuments } from "../support/elasticsearch.ts";
import { readTopic } from "../support/dead-letters.ts";
import { waitFor } from "../support/env.ts";
import { suiteFixture } from "../support/fixture.ts";
import { committedOffsets, createTopics, produce, waitForCommittedAtEnd, withAdmin } from "../support/kafka.ts";
import { startKafka, stopKafka } from "../support/services.ts";
import { WorkerProcess, withWorkers } from "../support/worker.ts";

const N = 600;
const BAD = [300, 450];

describe("dead-letter topic unavailable", () => {
  const { es, name, groupId } = suiteFixture("dlqfault");
  const topic = `${name}-src`;
  const dlq = `${name}-dlq`;
  let kafkaStopped = false;
  after(async () => {
    if (kafkaStopped) await startKafka();
  });

  const committed = (): Promise<bigint> => withAdmin(async (admin) => (await committedOffsets(admin, groupId, topic)).get(0) ?? -1n);

  test("held while the topic is missing and while Kafka is down; nothing committed past it; then dead-lettered", async (t) => {
    let worker: WorkerProcess | undefined;
    let second: WorkerProcess | undefined;
    await withWorkers(() => [worker, second], async () => {
      await es.indices.create({
        index: topic,
        settings: { number_of_shards: 1, number_of_replicas: 0 },
        mappings: { dynamic: "strict", properties: { seq: { type: "long" }, "@timestamp": { type: "date" } } },
      });
      await createTopics([topic], 1);
      // Batches of 50: what precedes the first bad record can be committed, not the rest.
      await produce(topic, N, (i) => ({ value: JSON.stringify(BAD.includes(i) ? { seq: i, unexpected: true } : { seq: i }) }), 1, 50);
      const env = {
        KAFKA_TOPICS: topic,
        KAFKA_GROUP_ID: groupId,
        DLQ_TOPIC: dlq,
        BULK_RETRY_MAX_MS: "1000",
        KAFKA_MAX_BYTES_PER_PARTITION: "4096",
        KAFKA_COMMIT_INTERVAL_MS: "200",
      };
      const w = new WorkerProcess(env, ["start"], "A");
      worker = w;
      await w.ready();
      await waitFor("three failed dead-letter writes", async () => ((await w.metric("kafka_es_transfer_dead_letter_write_failures_total")) >= 3 ? true : undefined), 90_000, 500);
      const held = await committed();
      t.diagnostic(`dead-letter topic missing: committed ${String(held)}, first rejected record at ${String(BAD[0])}`);
      assert.ok(held <= BigInt(BAD[0] ?? 0), `committed ${String(held)} must not pass the held record`);
      // `start` holds the record's partition (issue 16): the slot is free, the partition is probed.
      assert.ok(w.logs.some((l) => l.msg === "dead-letter write failed; holding the record's partition"), "logged");
      assert.ok(w.running, "held, not crashed");

      // Kafka goes down while the record is still unwritten; the worker dies there.
      await stopKafka();
      kafkaStopped = true;
      w.kill("SIGKILL");
      await w.exited;
      await startKafka();
      kafkaStopped = false;
      // The group coordinator needs a moment after a restart: ask until it answers.
      const afterCrash = await waitFor("the group's committed offset after the restart", () => committed(), 60_000, 1_000);
      t.diagnostic(`after Kafka restarted: committed ${String(afterCrash)}`);
      assert.ok(afterCrash <= BigInt(BAD[0] ?? 0), `committed ${String(afterCrash)} must not pass the unwritten dead letter`);

      await createTopics([dlq], 1);
      const w2 = new WorkerProcess(env, ["start"], "B");
      second = w2;
      await w2.ready(120_000);
      await waitForCommittedAtEnd(groupId, [topic], 120_000);
      const letters = await readTopic(dlq);
      const offsets = letters.map((l) => Number(l.headers["source.offset"]));
      t.diagnostic(`dead letters for source offsets ${JSON.stringify(offsets)}`);
      for (const bad of BAD) assert.ok(offsets.includes(bad), `record ${String(bad)} dead-lettered`);
      assert.equal(new Set(offsets).size, BAD.length, "only the rejected records");
      assert.equal(await countDocuments(es, topic), N - BAD.length);
      assert.equal((await w2.stop()).code, 0);
    });
  });
});
