/**
 * Issue 8, item 6: lag that hides work. The real worker process against the real
 * servers: a worker stuck from its start (Elasticsearch unreachable) with
 * `fromBeginning=false` must show the backlog as lag; records deleted by retention
 * before the group read them must be counted and logged, and the worker must resume from
 * the earliest retained record, not from the end (kafkajs' out-of-range recovery).
 * Retention is `deleteRecords`, which moves the log start exactly as retention does.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { countDocuments } from "../../support/elasticsearch.ts";
import { waitFor } from "../../support/env.ts";
import { suiteFixture } from "../../support/fixture.ts";
import { createTopics, produce, withAdmin } from "../../support/kafka.ts";
import { partitionSeries, WorkerProcess, withWorkers } from "../../support/worker.ts";

/** Nothing listens on port 1: Elasticsearch is "down" from the start (connection refused). */
const NO_ELASTICSEARCH = "http://127.0.0.1:1";

void describe("source: lag and retention", () => {
  const { es, name } = suiteFixture("src-lag");

  void test("item 6: a worker stuck since its start (fromBeginning=false, nothing committed) reports its backlog as lag", async (t) => {
    const topic = `${name}-stuck`;
    let worker: WorkerProcess | undefined;
    await withWorkers(() => [worker], async () => {
      await createTopics([topic], 1);
      const w = new WorkerProcess({
        KAFKA_TOPICS: topic,
        KAFKA_GROUP_ID: `${topic}-g`,
        KAFKA_FROM_BEGINNING: "false",
        KAFKA_LAG_INTERVAL_MS: "1000",
        ES_NODE: NO_ELASTICSEARCH,
      }, ["start"], "stuck");
      worker = w;
      await w.waitForLog((l) => l.msg === "partitions assigned" && l.assigned === 1, 60_000);
      await produce(topic, 300, (i) => ({ value: JSON.stringify({ seq: i }) }), 1);
      const lag = await waitFor("consumer_lag == 300", async () => {
        const series = partitionSeries(await w.scrape(), "kafka_es_transfer_consumer_lag", topic);
        return series.get(0) === 300 ? 300 : undefined;
      }, 30_000, 500).catch(async (error: unknown) => {
        const series = partitionSeries(await w.scrape(), "kafka_es_transfer_consumer_lag", topic);
        t.diagnostic(`consumer_lag: ${JSON.stringify([...series])}`);
        throw error;
      });
      assert.equal(lag, 300);
    });
  });

  void test("item 6: records deleted before they were read are counted and logged; the rest is consumed", async (t) => {
    const topic = `${name}-retention`;
    const groupId = `${topic}-g`;
    let worker: WorkerProcess | undefined;
    await withWorkers(() => [worker], async () => {
      await createTopics([topic], 1);
      await produce(topic, 100, (i) => ({ value: JSON.stringify({ seq: i }) }), 1);
      await withAdmin(async (admin) => {
        // The group had read up to 10; retention then deleted everything below 60.
        await admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: "10" }] });
        await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: "60" }] });
      });
      const w = new WorkerProcess({ KAFKA_TOPICS: topic, KAFKA_GROUP_ID: groupId, KAFKA_FROM_BEGINNING: "false" }, ["start"], "retention");
      worker = w;
      await w.ready();
      const indexed = await waitFor("the 40 retained records indexed", async () => {
        const n = await countDocuments(es, topic).catch(() => 0);
        return n === 40 ? n : undefined;
      }, 60_000, 500).catch(async (error: unknown) => {
        t.diagnostic(`documents: ${String(await countDocuments(es, topic).catch(() => -1))}`);
        throw error;
      });
      assert.equal(indexed, 40);
      assert.equal(await w.metric("kafka_es_transfer_records_lost_to_retention_total", { topic }), 50);
      const loud = w.logs.find((l) => l.level === "error" && typeof l.msg === "string" && l.msg.includes("deleted by retention"));
      assert.ok(loud, "an error line says records were lost");
      assert.equal(loud.records, 50);
    });
  });
});
