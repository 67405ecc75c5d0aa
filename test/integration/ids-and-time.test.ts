/**
 * Issue 8, items 8 and 9, on the real servers.
 *
 * Key ids: only failed items are re-sent after a backoff, so a record's first version
 * refused (429) while its key's next version succeeded used to come back later and
 * overwrite it for good; a tombstone's delete likewise was undone. The fault proxy
 * refuses every first version for a few seconds; with the offset as external version
 * the late write gets 409 (a newer version is there) and the newest value stays.
 *
 * No timestamp: a record produced with timestamp -1 and routed by a dated template goes
 * to the index of the epoch, not of today (the wall clock would put a redelivery after
 * midnight into a second index).
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { countDocuments, getSource } from "../support/elasticsearch.ts";
import { ES_NODE, waitFor } from "../support/env.ts";
import { faultProxyPort, startEsFaultProxy } from "../support/es-fault-proxy.ts";
import { createTopics, produce, waitForCommittedAtEnd } from "../support/kafka.ts";
import { WorkerProcess, withWorkers } from "../support/worker.ts";
import { suiteFixture } from "../support/fixture.ts";

const KEYS = 100;
const DELETED = 20;

describe("key ids with external versions", () => {
  const { es, name: topic, groupId } = suiteFixture("keyver");

  test("a first version retried after its successor succeeded does not overwrite it, nor undo a delete", async (t) => {
    const proxy = await startEsFaultProxy({ target: ES_NODE, port: faultProxyPort(ES_NODE) });
    after(() => proxy.close());
    let worker: WorkerProcess | undefined;
    await withWorkers(() => [worker], async () => {
      await createTopics([topic], 2);
      // Per key, on its own partition: v1 (refused at first), then v2 or a tombstone.
      await produce(topic, 2 * KEYS, (i) => {
        const k = i % KEYS;
        const first = i < KEYS;
        const key = `k${String(k)}`;
        const partition = k % 2;
        if (first) return { key, partition, value: JSON.stringify({ key, v: 1, stale: true }) };
        return { key, partition, value: k < DELETED ? null : JSON.stringify({ key, v: 2 }) };
      });
      // Refuses the first versions until each was refused once and the rest went through.
      proxy.schedule([{ durationMs: 600_000, itemRejectPattern: /"stale":true/ }]);
      const w = new WorkerProcess({
        KAFKA_TOPICS: topic,
        KAFKA_GROUP_ID: groupId,
        ES_NODE: proxy.url,
        DOC_ID_STRATEGY: "key",
        DOC_TOMBSTONES: "delete",
        BULK_RETRY_INITIAL_MS: "500",
        BULK_RETRY_MAX_MS: "1000",
      });
      worker = w;
      await w.ready();
      await waitFor("every first version refused, every successor forwarded", () =>
        proxy.stats.injectedItemRejections >= KEYS && proxy.stats.forwardedItems >= KEYS ? true : undefined, 60_000, 100);
      proxy.schedule([]);
      await waitForCommittedAtEnd(groupId, [topic], 60_000);
      t.diagnostic(`proxy refused ${String(proxy.stats.injectedItemRejections)} first versions before letting them through`);
      assert.ok(proxy.stats.injectedItemRejections >= KEYS, "every first version was refused at least once");

      assert.equal(await countDocuments(es, topic), KEYS - DELETED, "deleted keys stay deleted");
      for (let k = 0; k < KEYS; k++) {
        const source = await getSource(es, topic, `k${String(k)}`);
        if (k < DELETED) assert.equal(source, undefined, `k${String(k)} was deleted by its tombstone`);
        else assert.equal(source?.v, 2, `k${String(k)} keeps its newest value`);
      }
      assert.equal((await w.stop()).code, 0);
    });
  });
});

describe("records without a timestamp", () => {
  const { es, name: topic, groupId } = suiteFixture("nots");

  test("a dated template routes them to the epoch's index, not today's", async () => {
    let worker: WorkerProcess | undefined;
    await withWorkers(() => [worker], async () => {
      await createTopics([topic], 1);
      await produce(topic, 10, (i) => ({ value: JSON.stringify({ seq: i }), timestamp: "-1" }));
      const w = new WorkerProcess({ KAFKA_TOPICS: topic, KAFKA_GROUP_ID: groupId, INDEX_TEMPLATE: "{topic}-{yyyy.MM.dd}" });
      worker = w;
      await w.ready();
      await waitForCommittedAtEnd(groupId, [topic], 60_000);
      const today = new Date().toISOString().slice(0, 10).replaceAll("-", ".");
      assert.equal(await countDocuments(es, `${topic}-${today}`), 0, "nothing dated by the wall clock");
      assert.equal(await countDocuments(es, `${topic}-1970.01.01`), 10);
      const source = await getSource(es, `${topic}-1970.01.01`, `${topic}-0-0`);
      assert.equal(source?.["@timestamp"], "1970-01-01T00:00:00.000Z");
      assert.equal((await w.stop()).code, 0);
    });
  });
});
