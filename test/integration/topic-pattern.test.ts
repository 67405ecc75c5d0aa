/**
 * KAFKA_TOPIC_PATTERN subscriptions follow the topics: one created after the worker
 * started is picked up on the next refresh, without a restart. The pattern matches
 * whole topic names, like Kafka's Java clients.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { countDocuments, deleteIndices, testElasticsearch } from "../support/elasticsearch.ts";
import { sleep, uniqueName, waitFor } from "../support/env.ts";
import { committedOffsets, createTopics, produce, waitForCommittedAtEnd, withAdmin } from "../support/kafka.ts";
import { WorkerProcess, withWorkers } from "../support/worker.ts";

async function waitForCount(es: ReturnType<typeof testElasticsearch>, index: string, n: number, timeoutMs = 60_000): Promise<void> {
  await waitFor(`${String(n)} documents in ${index}`, async () => ((await countDocuments(es, index)) === n ? true : undefined), timeoutMs, 500);
}

describe("topic pattern", () => {
  const es = testElasticsearch();
  const base = uniqueName("pat");

  after(async () => {
    await deleteIndices(es, `${base}-*,x${base}-*`);
    await es.close();
  });

  test("a matching topic created after the start is consumed without a restart", async (t) => {
    const prefix = `${base}-a`;
    const first = `${prefix}-one`;
    const later = `${prefix}-two`;
    // Contains the pattern's text but does not match it as a whole name.
    const decoy = `x${prefix}-decoy`;
    const groupId = `${prefix}-group`;
    let worker: WorkerProcess | undefined;
    await withWorkers(() => [worker], async () => {
      await createTopics([first], 2);
      await produce(first, 1_000, (i) => ({ value: JSON.stringify({ seq: i }) }), 2);
      const w = new WorkerProcess({ KAFKA_TOPIC_PATTERN: `${prefix}-.*`, KAFKA_TOPIC_REFRESH_MS: "2000", KAFKA_GROUP_ID: groupId });
      worker = w;
      await w.ready();
      await waitForCount(es, first, 1_000);

      const createdAt = Date.now();
      await createTopics([later, decoy], 3);
      await produce(later, 1_500, (i) => ({ value: JSON.stringify({ seq: i }) }), 3);
      await produce(decoy, 100, (i) => ({ value: JSON.stringify({ seq: i }) }), 3);
      await waitForCount(es, later, 1_500);
      t.diagnostic(`the new topic was indexed ${((Date.now() - createdAt) / 1000).toFixed(1)} s after its creation`);
      // And the first topic keeps flowing after the re-subscription.
      await produce(first, 500, (i) => ({ value: JSON.stringify({ seq: 1_000 + i }) }), 2);
      await waitForCount(es, first, 1_500);
      await waitForCommittedAtEnd(groupId, [first, later], 30_000);

      assert.ok(w.running, "the same process throughout");
      const change = w.logsWith("matching topics changed; re-subscribing");
      assert.equal(change.length, 1);
      assert.deepEqual(change[0]?.after, [first, later].sort());
      assert.equal(await w.metric("kafka_es_transfer_records_consumed_total", { topic: later }), 1_500);

      // The decoy was never consumed: no index, no offsets, no series.
      await sleep(2_500);
      assert.equal(await countDocuments(es, decoy), 0);
      const decoyOffsets = await withAdmin((admin) => committedOffsets(admin, groupId, decoy));
      assert.ok([...decoyOffsets.values()].every((o) => o === -1n), "no offsets committed for the decoy");
      assert.equal(await w.metric("kafka_es_transfer_records_consumed_total", { topic: decoy }), 0);
      assert.equal((await w.stop()).code, 0);
    });
  });

  test("a worker started before any topic matches waits, then consumes the first one", async () => {
    const prefix = `${base}-b`;
    const topic = `${prefix}-first`;
    const groupId = `${prefix}-group`;
    let worker: WorkerProcess | undefined;
    await withWorkers(() => [worker], async () => {
      const w = new WorkerProcess({ KAFKA_TOPIC_PATTERN: `${prefix}-.*`, KAFKA_TOPIC_REFRESH_MS: "2000", KAFKA_GROUP_ID: groupId });
      worker = w;
      await w.waitForLog((l) => l.msg === "no topic matches yet; waiting for one to appear", 30_000);
      await w.listening();
      await createTopics([topic], 2);
      await produce(topic, 800, (i) => ({ value: JSON.stringify({ seq: i }) }), 2);
      await w.ready(30_000);
      await waitForCount(es, topic, 800);
      await waitForCommittedAtEnd(groupId, [topic], 30_000);
      assert.equal((await w.stop()).code, 0);
    });
  });
});
