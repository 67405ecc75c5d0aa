/**
 * Stopping: SIGTERM in the middle of a run drains what was fetched, commits exactly
 * what was indexed and exits 0 within the drain deadline, so the next worker neither
 * skips nor repeats a record. And a bad configuration is refused in one line, exit 2.
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
const DRAIN_MS = 20_000;

describe("shutdown", () => {
  const { es, name: topic, groupId } = suiteFixture("shutdown");

  test("SIGTERM mid-run: exit 0 within the deadline, committed == indexed, the next worker finishes exactly once", async (t) => {
    let first: WorkerProcess | undefined;
    let second: WorkerProcess | undefined;
    await withWorkers(() => [first, second], async () => {
      await createTopics([topic], PARTITIONS);
      await produce(topic, N, (i) => ({ value: JSON.stringify({ seq: i }) }), PARTITIONS, 5_000);
      const env = {
        KAFKA_TOPICS: topic,
        KAFKA_GROUP_ID: groupId,
        SHUTDOWN_TIMEOUT_MS: String(DRAIN_MS),
        // Slow enough to be stopped in the middle; a queue small enough to drain in time.
        BULK_WORKERS: "1",
        BULK_MAX_DOCUMENTS: "200",
        QUEUE_MAX_RECORDS: "5000",
        // Small fetches: one fetch response could otherwise bring the whole topic into
        // the queue before back-pressure pauses it, and SIGTERM would find it all fetched.
        KAFKA_MAX_BYTES_PER_PARTITION: "16384",
        KAFKA_MAX_BYTES: "65536",
      };
      const w1 = new WorkerProcess(env, ["start"], "first");
      first = w1;
      await w1.ready();
      await waitFor("between 10% and 70% indexed", async () => {
        const count = await countDocuments(es, topic);
        if (count > 0.7 * N) throw new Error(`too late: ${String(count)} already indexed`);
        return count >= 0.1 * N ? count : undefined;
      }, 120_000, 100);
      const signalledAt = Date.now();
      w1.kill("SIGTERM");
      const exit = await w1.exited;
      const tookMs = Date.now() - signalledAt;
      t.diagnostic(`exited ${JSON.stringify(exit)} ${String(tookMs)} ms after SIGTERM`);
      assert.deepEqual(exit, { code: 0, signal: null });
      assert.ok(tookMs < DRAIN_MS + 5_000, `stopped within the drain deadline (${String(tookMs)} ms)`);
      assert.equal(w1.logsWith("drain deadline reached; the rest will be redelivered").length, 0, "drained before the deadline");
      assert.ok(w1.logs.some((l) => l.msg === "stopped"));

      const indexed = await countDocuments(es, topic);
      const committed = await withAdmin((admin) => committedOffsets(admin, groupId, topic));
      const committedSum = [...committed.values()].reduce((sum, o) => sum + (o < 0n ? 0n : o), 0n);
      t.diagnostic(`after the stop: ${String(indexed)} indexed, ${String(committedSum)} committed`);
      assert.ok(indexed < N, "stopped before the end");
      assert.equal(Number(committedSum), indexed, "the final commit covers exactly what was indexed");
      // The documents indexed are exactly the committed prefix of each partition: seq i is
      // at partition i % 6, offset floor(i / 6).
      // So the last committed record of a partition is there and the next one is not.
      const seqAt = (partition: number, offset: bigint): number => Number(offset) * PARTITIONS + partition;
      for (const [partition, next] of committed) {
        const count = async (seq: number): Promise<number> => (await es.count({ index: topic, query: { term: { seq } } })).count;
        if (next > 0n) assert.equal(await count(seqAt(partition, next - 1n)), 1, `the last committed record of partition ${String(partition)} is indexed`);
        assert.equal(await count(seqAt(partition, next)), 0, `the first uncommitted record of partition ${String(partition)} is not`);
      }

      const w2 = new WorkerProcess(env, ["start"], "second");
      second = w2;
      await w2.ready();
      await waitForCommittedAtEnd(groupId, [topic], 120_000);
      assert.equal(await countDocuments(es, topic), N);
      const stats = await fieldStats(es, topic, "seq");
      assert.deepEqual(stats, { count: N, sum: (N * (N - 1)) / 2, min: 0, max: N - 1 });
      const { distinct, duplicated } = await distinctValues(es, topic, "seq");
      assert.equal(distinct, N);
      assert.deepEqual(duplicated, []);
      assert.equal(await w2.metric("kafka_es_transfer_records_consumed_total", { topic }), N - indexed, "nothing fetched twice, nothing skipped");
      assert.equal((await w2.stop()).code, 0);
    });
  });

  test("check-config with a bad value: exit 2, one line naming the key and the value", async () => {
    const worker = new WorkerProcess({ BULK_WORKERS: "abc" }, ["check-config"], "check-config");
    const exit = await worker.exited;
    assert.deepEqual(exit, { code: 2, signal: null });
    const output = [...worker.stderr];
    assert.equal(output.length, 1, `exactly one line, got: ${JSON.stringify(output)}`);
    const line = output[0] ?? "";
    assert.match(line, /bulk\.workers/);
    assert.match(line, /abc/);
    assert.doesNotMatch(line, /\bat .*\(|\.ts:\d+|Error:/, "no stack trace");
    assert.deepEqual(worker.logs, [], "nothing on stdout");
  });
});
