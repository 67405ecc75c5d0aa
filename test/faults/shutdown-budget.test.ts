/**
 * Fault: a dead-letter send that never returns must not hold the worker past
 * SHUTDOWN_TIMEOUT_MS (issue 16, item 8). The broker is made unreachable for the
 * worker's producer only: a client quota of 1 byte/s on produce for its client id (the
 * consumer's fetches and commits are not throttled), so after the first dead letter
 * every produce request waits out a throttle of minutes. Records are rejected (strict
 * mapping) and their dead letters pile up; then SIGTERM. The worker exits 0 within the
 * budget plus a small margin, committed exactly what was settled (indexed or
 * dead-lettered) and left the group. Before the fix it waited on the send for ever.
 *
 * Offsets are committed per fetched batch (checkpointer.ts): the records are produced
 * in batches of CHUNK and fetched one batch at a time (1 byte per partition: a fetch
 * returns the first batch whole), so "what was settled" is the start of the batch
 * holding the first unsettled record.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { readTopic } from "../support/dead-letters.ts";
import { BROKERS, waitFor } from "../support/env.ts";
import { suiteFixture } from "../support/fixture.ts";
import { committedOffsets, createTopics, describeGroup, produce, withAdmin } from "../support/kafka.ts";
import { kafkaJava } from "../support/kafka-tools.ts";
import { metricSum, WorkerProcess, withWorkers } from "../support/worker.ts";

const N = 400;
const CHUNK = 10;
const BUDGET_MS = 6_000;
/** The process's own exit (pino flush, the last 200 ms timer) and the signal's delivery. */
const MARGIN_MS = 2_000;

function isBad(seq: number): boolean {
  return seq % 50 === 7;
}

/** Sets (or with `undefined`, removes) the produce quota of a client id. */
async function produceQuota(clientId: string, bytesPerSecond: number | undefined): Promise<void> {
  const change = bytesPerSecond === undefined ? ["--delete-config", "producer_byte_rate"] : ["--add-config", `producer_byte_rate=${String(bytesPerSecond)}`];
  await kafkaJava("kafka.admin.ConfigCommand", ["--bootstrap-server", BROKERS.join(","), "--alter", ...change, "--entity-type", "clients", "--entity-name", clientId], 120_000);
}

describe("fault: a dead-letter send that never returns, then SIGTERM", () => {
  const { es, name: topic, groupId } = suiteFixture("fault-stop-budget");
  const dlq = `${topic}-dlq`;
  const clientId = `${topic}-client`;

  test("the worker exits within SHUTDOWN_TIMEOUT_MS, commits what was settled and leaves the group", async (t) => {
    let worker: WorkerProcess | undefined;
    after(() => produceQuota(clientId, undefined));
    await withWorkers(() => [worker], async () => {
      await createTopics([topic, dlq], 1);
      await es.indices.create({
        index: topic,
        settings: { number_of_shards: 1, number_of_replicas: 0 },
        mappings: { dynamic: "strict", properties: { seq: { type: "long" }, "@timestamp": { type: "date" } } },
      });
      await produce(topic, N, (seq) => ({ value: JSON.stringify(isBad(seq) ? { seq, unexpected: true } : { seq }) }), 1, CHUNK);
      await produceQuota(clientId, 1);

      const w = new WorkerProcess({
        KAFKA_TOPICS: topic,
        KAFKA_GROUP_ID: groupId,
        KAFKA_CLIENT_ID: clientId,
        DLQ_TOPIC: dlq,
        SHUTDOWN_TIMEOUT_MS: String(BUDGET_MS),
        BULK_MAX_DOCUMENTS: "20",
        KAFKA_MAX_BYTES_PER_PARTITION: "1",
      }, ["start"], "stop-budget");
      worker = w;
      await w.ready();
      // Records rejected whose dead letter is not written: a send is waiting on the broker.
      const waiting = await waitFor("a dead-letter write waiting on the throttled broker", async () => {
        const scrape = await w.scrape();
        const rejected = metricSum(scrape, "kafka_es_transfer_records_rejected_total");
        const deadLettered = metricSum(scrape, "kafka_es_transfer_records_dead_lettered_total");
        return rejected - deadLettered >= 2 ? rejected - deadLettered : undefined;
      }, 90_000, 250);

      const signalledAt = Date.now();
      w.kill("SIGTERM");
      const exit = await Promise.race([w.exited, new Promise<undefined>((resolve) => setTimeout(() => { resolve(undefined); }, BUDGET_MS + MARGIN_MS + 20_000))]);
      const tookMs = Date.now() - signalledAt;
      if (exit === undefined) {
        w.kill("SIGKILL");
        assert.fail(`still running ${String(tookMs)} ms after SIGTERM (budget ${String(BUDGET_MS)} ms):\n${w.tail(8)}`);
      }
      t.diagnostic(`${String(waiting)} dead letters waiting; exited ${JSON.stringify(exit)} ${String(tookMs)} ms after SIGTERM (budget ${String(BUDGET_MS)} ms)`);
      assert.deepEqual(exit, { code: 0, signal: null });
      assert.ok(tookMs <= BUDGET_MS + MARGIN_MS, `stopped within the budget and a margin (${String(tookMs)} ms)`);

      // Settled: indexed, or dead-lettered (the first dead letters went out before the throttle).
      await es.indices.refresh({ index: topic });
      const indexed = await es.search<{ seq: number }>({ index: topic, size: N, _source: ["seq"] });
      const settled = new Set(indexed.hits.hits.map((h) => h._source?.seq ?? -1));
      const letters = await readTopic(dlq);
      for (const letter of letters) settled.add(Number(letter.headers["source.offset"]));
      let firstUnsettled = 0;
      while (settled.has(firstUnsettled)) firstUnsettled += 1;
      const { committed, group } = await withAdmin(async (admin) => ({
        committed: (await committedOffsets(admin, groupId, topic)).get(0),
        group: await describeGroup(admin, groupId),
      }));
      t.diagnostic(`indexed ${String(indexed.hits.hits.length)}, dead-lettered ${String(letters.length)}, first unsettled offset ${String(firstUnsettled)}, committed ${String(committed)}, group ${group.state} with ${String(group.members.length)} members`);
      assert.ok(firstUnsettled > 0 && firstUnsettled < N, "some records were settled, some were not");
      assert.equal(committed, BigInt(firstUnsettled - (firstUnsettled % CHUNK)), "the final commit covers exactly the batches settled");
      assert.equal(group.members.length, 0, "the worker left the group");
      assert.ok(w.logs.some((l) => l.msg === "stopped"));
    });
  });
});
