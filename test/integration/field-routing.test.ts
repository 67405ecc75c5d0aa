/**
 * Issue 19, items 3 and 6 on the real servers: an index named by a document field
 * (`{field:service.name|unrouted}`) with missing and non-string fields and the bound on
 * distinct values hit, and per-topic settings (a /regex/ entry, an exact entry that
 * overrides it, a topic no entry selects) in one worker.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { countDocuments, getSource } from "../support/elasticsearch.ts";
import { suiteFixture } from "../support/fixture.ts";
import { createTopics, produce, waitForCommittedAtEnd } from "../support/kafka.ts";
import { metricSum, WorkerProcess, withWorkers } from "../support/worker.ts";

const PER_SERVICE = 30;
const SERVICES = ["Checkout", "billing", "search", "ads", "mail"];
const LIMIT = 3;
const MISSING = 12;
const NOT_STRING = 8;
/** 2026-01-15: the month in the index names. */
const TIMESTAMP = String(Date.UTC(2026, 0, 15));

/** Record i of the routed topic: SERVICES in turn (nested and dotted spellings), then missing and numeric fields. */
function routedValue(i: number): string {
  const services = SERVICES.length * PER_SERVICE;
  if (i < services) {
    const service = SERVICES[i % SERVICES.length] ?? "";
    return JSON.stringify(i % 2 === 0 ? { seq: i, service: { name: service } } : { seq: i, "service.name": service });
  }
  if (i < services + MISSING) return JSON.stringify({ seq: i, service: { version: "1" } });
  return JSON.stringify({ seq: i, service: { name: 42 } });
}

describe("routing by a document field, and per-topic settings", () => {
  const { es, name, groupId } = suiteFixture("route");
  const routed = `${name}-svc`;
  const keyed = `${name}-keyed`;
  const plain = `${name}-plain`;
  const routedCount = SERVICES.length * PER_SERVICE + MISSING + NOT_STRING;

  test("field values name the indices, the fallback takes missing, non-string and over-limit values; each topic gets its own settings", async (t) => {
    let worker: WorkerProcess | undefined;
    await withWorkers(() => [worker], async () => {
      // One partition: the first values to arrive (and so the ones under the limit) are known.
      await createTopics([routed, keyed, plain], 1);
      await produce(routed, routedCount, (i) => ({ value: routedValue(i), timestamp: TIMESTAMP }));
      await produce(keyed, 20, (i) => ({ key: `user-${String(i % 10)}`, value: JSON.stringify({ seq: i, service: { name: "x" } }), timestamp: TIMESTAMP }));
      await produce(plain, 10, (i) => ({ value: JSON.stringify({ seq: i }) }));

      const topicSettings = {
        // Both routed topics match the pattern; the exact entry overrides its template.
        [`/${name}-(svc|keyed)/`]: { indexTemplate: `${name}-{field:service.name|unrouted}-{yyyy.MM}` },
        [keyed]: { indexTemplate: `${name}-users`, idStrategy: "key" },
      };
      const w = new WorkerProcess({
        KAFKA_TOPICS: [routed, keyed, plain].join(","),
        KAFKA_GROUP_ID: groupId,
        TOPIC_SETTINGS: JSON.stringify(topicSettings),
        INDEX_MAX_FIELD_VALUES: String(LIMIT),
      });
      worker = w;
      await w.ready();
      await waitForCommittedAtEnd(groupId, [routed, keyed, plain], 90_000);

      // The first LIMIT services got their index; the rest, and what has no string, the fallback.
      for (const service of SERVICES.slice(0, LIMIT)) {
        assert.equal(await countDocuments(es, `${name}-${service.toLowerCase()}-2026.01`), PER_SERVICE, service);
      }
      for (const service of SERVICES.slice(LIMIT)) assert.equal(await countDocuments(es, `${name}-${service}-2026.01`), 0, `${service} got no index`);
      const overLimit = (SERVICES.length - LIMIT) * PER_SERVICE;
      assert.equal(await countDocuments(es, `${name}-unrouted-2026.01`), overLimit + MISSING + NOT_STRING);
      // The documents are the records as produced: routing reads the field, it does not change the document.
      const first = await getSource(es, `${name}-checkout-2026.01`, `${routed}-0-0`);
      assert.deepEqual(first?.service, { name: "Checkout" });

      const scrape = await w.scrape();
      const fallbacks = (reason: string): number => metricSum(scrape, "kafka_es_transfer_index_field_fallbacks_total", { topic: routed, reason });
      t.diagnostic(`fallbacks: missing ${String(fallbacks("missing"))}, not_string ${String(fallbacks("not_string"))}, limit ${String(fallbacks("limit"))}`);
      assert.equal(fallbacks("missing"), MISSING);
      assert.equal(fallbacks("not_string"), NOT_STRING);
      assert.equal(fallbacks("limit"), overLimit);

      // The exact entry: its own index and key ids (10 keys, the later record of each wins).
      assert.equal(await countDocuments(es, `${name}-users`), 10);
      assert.equal((await getSource(es, `${name}-users`, "user-3"))?.seq, 13);
      // No entry: the global settings (index {topic}, coordinates ids).
      assert.equal(await countDocuments(es, plain), 10);
      assert.equal((await getSource(es, plain, `${plain}-0-9`))?.seq, 9);
      assert.equal((await w.stop()).code, 0);
    });
  });
});
