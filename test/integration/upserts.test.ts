/**
 * Issue 19, item 5 on the real servers: ES_OP_TYPE=update with key ids merges each
 * record into its key's document (doc_as_upsert), tombstones delete, and a stale update
 * never wins. The fault proxy refuses every first version (429) for a while, so that
 * without ordering the later versions would be applied first and the retried first
 * version last: an update carries no version Elasticsearch could refuse it by.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { countDocuments, getSource } from "../support/elasticsearch.ts";
import { ES_NODE, waitFor } from "../support/env.ts";
import { faultProxyPort, startEsFaultProxy } from "../support/es-fault-proxy.ts";
import { suiteFixture } from "../support/fixture.ts";
import { createTopics, produce, waitForCommittedAtEnd } from "../support/kafka.ts";
import { WorkerProcess, withWorkers } from "../support/worker.ts";

const KEYS = 60;
const VERSIONS = 4;

/**
 * Version v (0-based) of key k: v0 sets a, b and marks itself stale; v1 sets b; v2 sets
 * a and c; v3 sets d. Keys k % 6 == 0 get a tombstone as v2 (deleted, then v3 creates
 * the document anew); keys k % 6 == 1 end with a tombstone (deleted for good).
 */
function version(k: number, v: number): Record<string, unknown> | null {
  if (k % 6 === 0 && v === 2) return null;
  if (k % 6 === 1 && v === 3) return null;
  switch (v) {
    case 0:
      return { a: "v0", b: "v0", stale: true };
    case 1:
      return { b: "v1" };
    case 2:
      return { a: "v2", c: "v2" };
    default:
      return { d: "v3" };
  }
}

/** The document each key should end with: its versions merged in offset order (undefined: deleted). */
function expected(k: number): Record<string, unknown> | undefined {
  let doc: Record<string, unknown> | undefined;
  for (let v = 0; v < VERSIONS; v++) {
    const change = version(k, v);
    doc = change === null ? undefined : { ...doc, ...change };
  }
  return doc;
}

describe("upserts (ES_OP_TYPE=update)", () => {
  const { es, name: topic, groupId } = suiteFixture("upsert");

  test("partial documents merge in offset order, tombstones delete, a retried first version never wins", async (t) => {
    const proxy = await startEsFaultProxy({ target: ES_NODE, port: faultProxyPort(ES_NODE) });
    after(() => proxy.close());
    let worker: WorkerProcess | undefined;
    await withWorkers(() => [worker], async () => {
      await createTopics([topic], 2);
      // Versions in order, each key on one partition; records of different keys interleave.
      await produce(topic, KEYS * VERSIONS, (i) => {
        const k = i % KEYS;
        const change = version(k, Math.floor(i / KEYS));
        return { key: `k${String(k)}`, partition: k % 2, value: change === null ? null : JSON.stringify(change) };
      });
      proxy.schedule([{ durationMs: 600_000, itemRejectPattern: /"stale":true/ }]);
      const w = new WorkerProcess({
        KAFKA_TOPICS: topic,
        KAFKA_GROUP_ID: groupId,
        ES_NODE: proxy.url,
        ES_OP_TYPE: "update",
        DOC_ID_STRATEGY: "key",
        DOC_TOMBSTONES: "delete",
        DOC_ADD_TIMESTAMP: "false",
        BULK_RETRY_INITIAL_MS: "300",
        BULK_RETRY_MAX_MS: "1000",
      });
      worker = w;
      await w.ready();
      // Every first version refused at least twice while the later ones were available to send.
      await waitFor("every first version refused twice", () => (proxy.stats.injectedItemRejections >= 2 * KEYS ? true : undefined), 60_000, 100);
      const forwardedWhileRefusing = proxy.stats.forwardedItems;
      proxy.schedule([]);
      await waitForCommittedAtEnd(groupId, [topic], 90_000);
      t.diagnostic(`proxy refused ${String(proxy.stats.injectedItemRejections)} first versions; ${String(forwardedWhileRefusing)} items forwarded meanwhile`);
      assert.equal(forwardedWhileRefusing, 0, "no later version of a key went while its first was refused");

      const survivors = Array.from({ length: KEYS }, (_, k) => k).filter((k) => expected(k) !== undefined);
      assert.equal(await countDocuments(es, topic), survivors.length);
      for (let k = 0; k < KEYS; k++) {
        assert.deepEqual(await getSource(es, topic, `k${String(k)}`), expected(k), `k${String(k)}`);
      }
      assert.equal((await w.stop()).code, 0);
    });
  });
});
