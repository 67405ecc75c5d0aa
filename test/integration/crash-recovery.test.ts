/**
 * A worker killed with SIGKILL in the middle of a run loses nothing and duplicates
 * nothing: the next worker of the group resumes at the committed offsets, records
 * indexed but not yet committed are fetched again and overwrite themselves by id.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { countDocuments, distinctValues, fieldStats } from "../support/elasticsearch.ts";
import { waitFor } from "../support/env.ts";
import { committedOffsets, createTopics, produce, waitForCommittedAtEnd, withAdmin } from "../support/kafka.ts";
import { WorkerProcess, withWorkers } from "../support/worker.ts";
import { suiteFixture } from "../support/fixture.ts";

const N = 60_000;
const PARTITIONS = 6;

describe("crash recovery", () => {
  const { es, name: topic, groupId } = suiteFixture("crash");

  test("SIGKILL mid-run, then a new worker: every record exactly once, offsets at the end", async (t) => {
    let first: WorkerProcess | undefined;
    let second: WorkerProcess | undefined;
    await withWorkers(() => [first, second], async () => {
      await createTopics([topic], PARTITIONS);
      await produce(topic, N, (i) => ({ value: JSON.stringify({ seq: i, payload: `record ${String(i)}` }) }), PARTITIONS, 5_000);

      const env = {
        KAFKA_TOPICS: topic,
        KAFKA_GROUP_ID: groupId,
        // Small requests, one at a time: the run lasts long enough to be cut in the middle.
        BULK_WORKERS: "1",
        BULK_MAX_DOCUMENTS: "200",
        // A dead member leaves the group after this, so the next one joins sooner.
        KAFKA_SESSION_TIMEOUT_MS: "6000",
        KAFKA_HEARTBEAT_INTERVAL_MS: "1000",
      };
      first = new WorkerProcess(env, ["start"], "first");
      await first.ready();
      // Killed once some offsets are committed and most records are still to come, so
      // the next worker has to resume from a committed position, not from the start.
      const atKill = await withAdmin((admin) => waitFor("10%-70% indexed and a first commit", async () => {
        const count = await countDocuments(es, topic);
        if (count > 0.7 * N) throw new Error(`too late: ${String(count)} already indexed`);
        if (count < 0.1 * N) return undefined;
        const committed = await committedOffsets(admin, groupId, topic);
        return [...committed.values()].some((o) => o > 0n) ? count : undefined;
      }, 120_000, 100));
      first.kill("SIGKILL");
      const exit = await first.exited;
      assert.equal(exit.signal, "SIGKILL");

      const indexedAtKill = await countDocuments(es, topic);
      const committedAtKill = await withAdmin((admin) => committedOffsets(admin, groupId, topic));
      const committedSum = [...committedAtKill.values()].reduce((sum, o) => sum + (o < 0n ? 0n : o), 0n);
      t.diagnostic(`killed at ${String(atKill)} indexed; after the kill: ${String(indexedAtKill)} indexed, ${String(committedSum)} committed`);
      assert.ok(indexedAtKill < N, "the kill came before the end");
      assert.ok(committedSum <= BigInt(indexedAtKill), "nothing is committed before it is indexed");

      second = new WorkerProcess(env, ["start"], "second");
      await second.ready(60_000);
      await waitForCommittedAtEnd(groupId, [topic], 180_000);

      assert.equal(await countDocuments(es, topic), N, "every record once: ids are deterministic");
      const stats = await fieldStats(es, topic, "seq");
      assert.deepEqual(stats, { count: N, sum: (N * (N - 1)) / 2, min: 0, max: N - 1 });
      const { distinct, duplicated } = await distinctValues(es, topic, "seq");
      assert.equal(distinct, N);
      assert.deepEqual(duplicated, []);

      // The second worker started at the committed offsets: not at the beginning, not at the end.
      const consumed = await second.metric("kafka_es_transfer_records_consumed_total", { topic });
      assert.equal(consumed, N - Number(committedSum), "records fetched again = everything after the committed offsets");
      const stop = await second.stop();
      assert.equal(stop.code, 0);
    });
  });
});
