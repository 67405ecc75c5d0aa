/**
 * Dead letters that retention would delete (issue 16, item 7), on the real broker: a
 * record from 2021 and one without a timestamp are refused by Elasticsearch and
 * dead-lettered into a topic whose retention.ms is an hour. The dead letters are stamped
 * with the time they were written, so a retention pass that deletes an old record from
 * a topic with the same setting leaves them; redrive then indexes each into the index of
 * its original date (the epoch's for the one without a timestamp), with its original
 * `@timestamp`. Before the fix the 2021 dead letter kept the source timestamp and was
 * deleted by the first retention pass (the broker checks every 2 s: services.sh).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { readTopic, runRedrive } from "../support/dead-letters.ts";
import { getSource } from "../support/elasticsearch.ts";
import { waitFor } from "../support/env.ts";
import { suiteFixture } from "../support/fixture.ts";
import { createTopics, produce, waitForCommittedAtEnd, withAdmin } from "../support/kafka.ts";
import { WorkerProcess, withWorkers } from "../support/worker.ts";

const OLD = Date.UTC(2021, 2, 4, 5, 6, 7);
const HOUR_MS = 3_600_000;

async function logStart(topic: string): Promise<bigint> {
  return withAdmin(async (admin) => BigInt((await admin.fetchTopicOffsets(topic))[0]?.low ?? "-1"));
}

describe("dead letters and retention", () => {
  const { es, name: topic, groupId } = suiteFixture("dlq-retention");
  const dlq = `${topic}-dlq`;
  const canary = `${topic}-canary`;
  const env = { KAFKA_TOPICS: topic, KAFKA_GROUP_ID: groupId, DLQ_TOPIC: dlq, INDEX_TEMPLATE: "{topic}-{yyyy.MM.dd}" };
  const oldIndex = `${topic}-2021.03.04`;
  const epochIndex = `${topic}-1970.01.01`;

  test("a dead letter of an old record survives a retention.ms its source timestamp is far past; redrive puts it in its original date's index", async (t) => {
    let worker: WorkerProcess | undefined;
    await withWorkers(() => [worker], async () => {
      const startedAt = Date.now();
      await createTopics([topic], 1);
      await createTopics([dlq, canary], 1, { "retention.ms": String(HOUR_MS) });
      // Both dated indices refuse the records' `n`, the way a mapping conflict does.
      for (const index of [oldIndex, epochIndex]) {
        await es.indices.create({ index, settings: { number_of_shards: 1, number_of_replicas: 0 }, mappings: { properties: { n: { type: "integer" } } } });
      }
      const values = [
        { value: JSON.stringify({ n: "not a number", of: "2021" }), timestamp: String(OLD) },
        { value: JSON.stringify({ n: "not a number", of: "none" }), timestamp: "-1" },
        { value: JSON.stringify({ n: 5, of: "now" }) },
      ];
      await produce(topic, values.length, (i) => values[i] ?? { value: null }, 1);

      const w = new WorkerProcess(env, ["start"], "retention");
      worker = w;
      await w.ready();
      await waitForCommittedAtEnd(groupId, [topic], 60_000);
      assert.equal((await w.stop()).code, 0);

      // A retention pass after the dead letters were written: it deletes an old record
      // from a topic with the same retention.ms.
      await produce(canary, 1, () => ({ value: "old", timestamp: String(OLD) }), 1);
      await produce(canary, 1, () => ({ value: "new" }), 1);
      await waitFor("a retention pass deleted the canary's old record", async () => ((await logStart(canary)) > 0n ? true : undefined), 60_000, 500);

      assert.equal(await logStart(dlq), 0n, "nothing of the dead-letter topic was deleted");
      const letters = await readTopic(dlq);
      assert.equal(letters.length, 2);
      for (const letter of letters) {
        const stamped = Number(letter.timestamp);
        assert.ok(stamped >= startedAt && stamped <= Date.now(), `stamped when written (${letter.timestamp})`);
      }
      assert.deepEqual(letters.map((l) => l.headers["source.timestamp"]), [String(OLD), "-1"]);
      t.diagnostic(`dead letters stamped ${letters.map((l) => new Date(Number(l.timestamp)).toISOString()).join(", ")}; source.timestamp ${letters.map((l) => l.headers["source.timestamp"] ?? "?").join(", ")}`);

      // The fix: indices that take `n` as it comes.
      await es.indices.delete({ index: [oldIndex, epochIndex] });
      const run = await runRedrive(env);
      assert.equal(run.code, 0, run.stderr);
      await es.indices.refresh({ index: `${topic}-*` });
      const old = await getSource(es, oldIndex, `${topic}-0-0`);
      assert.equal(old?.["@timestamp"], new Date(OLD).toISOString(), "indexed under its original date");
      const none = await getSource(es, epochIndex, `${topic}-0-1`);
      assert.equal(none?.["@timestamp"], new Date(0).toISOString(), "a record without a timestamp keeps none: the epoch, as the first time");
    });
  });
});
