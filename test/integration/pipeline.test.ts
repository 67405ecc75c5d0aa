/**
 * The whole pipeline on real servers: 100,000 records in three topics of different
 * shapes, one worker, and at the end every record is in its topic's index exactly
 * once, under its deterministic id, with the expected shape; and the group's committed
 * offsets are the end offsets.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { countDocuments, deleteIndices, distinctValues, fieldStats, getSource, testElasticsearch } from "../support/elasticsearch.ts";
import { uniqueName, waitFor } from "../support/env.ts";
import { createTopics, produce, waitForCommittedAtEnd, withAdmin, recordsPerPartition } from "../support/kafka.ts";
import { WorkerProcess, withWorkers } from "../support/worker.ts";

const PARTITIONS = 6;
const ACCESS = 34_000;
const EVENTS = 33_000;
const DOTTED = 33_000;
const TOTAL = ACCESS + EVENTS + DOTTED;

/** Record i goes to partition i % PARTITIONS, so it lands at offset floor(i / PARTITIONS). */
function coordinates(topic: string, i: number): string {
  return `${topic}-${String(i % PARTITIONS)}-${String(Math.floor(i / PARTITIONS))}`;
}

const accessLine = (i: number): string =>
  `127.0.0.${String(i % 250)} - - [21/Nov/2025:10:00:00 +0000] "GET /item/${String(i)} HTTP/1.1" 200 ${String(512 + (i % 100))} "-" "curl/8.5"`;

const appEvent = (i: number): Record<string, unknown> => ({
  seq: i,
  level: i % 10 === 0 ? "error" : "info",
  service: `svc-${String(i % 7)}`,
  message: `event number ${String(i)}`,
  latency_ms: i % 1000,
});

const dottedEvent = (i: number): Record<string, unknown> => ({
  seq: i,
  "http.request.method": i % 2 === 0 ? "GET" : "POST",
  "url.path": `/api/v1/things/${String(i)}`,
  user: { id: i % 500, name: `user-${String(i % 500)}` },
});

describe("pipeline: three topics of different shapes through one worker", () => {
  const es = testElasticsearch();
  const base = uniqueName("pipe");
  const access = `${base}-access`;
  const events = `${base}-events`;
  const dotted = `${base}-dotted`;
  const topics = [access, events, dotted];
  const groupId = `${base}-group`;

  after(async () => {
    await deleteIndices(es, `${base}-*`);
    await es.close();
  });

  test("every record reaches its index once, in shape, and every offset is committed", async (t) => {
    let worker: WorkerProcess | undefined;
    await withWorkers(() => [worker], async () => {
      await createTopics(topics, PARTITIONS);
      await Promise.all([
        produce(access, ACCESS, (i) => ({ value: accessLine(i) }), PARTITIONS, 5_000),
        produce(events, EVENTS, (i) => ({ value: JSON.stringify(appEvent(i)) }), PARTITIONS, 5_000),
        produce(dotted, DOTTED, (i) => ({ value: JSON.stringify(dottedEvent(i)) }), PARTITIONS, 5_000),
      ]);
      const perTopic = await withAdmin(async (admin) => Promise.all(topics.map((topic) => recordsPerPartition(admin, topic))));
      const produced = perTopic.map((m) => Number([...m.values()].reduce((a, b) => a + b, 0n)));
      assert.deepEqual(produced, [ACCESS, EVENTS, DOTTED], "the brokers hold what was produced");

      const started = Date.now();
      worker = new WorkerProcess({
        KAFKA_TOPIC_PATTERN: `${base}-.*`,
        KAFKA_GROUP_ID: groupId,
      });
      const w = worker;
      await w.ready();
      await waitFor(`${String(TOTAL)} documents`, async () => {
        const counts = await Promise.all(topics.map((topic) => countDocuments(es, topic)));
        return counts.reduce((a, b) => a + b, 0) >= TOTAL ? counts : undefined;
      }, 300_000, 1_000);
      const seconds = (Date.now() - started) / 1000;
      t.diagnostic(`${String(TOTAL)} records indexed in ${seconds.toFixed(1)} s from worker start: ${(TOTAL / seconds).toFixed(0)} records/s`);

      await waitForCommittedAtEnd(groupId, topics, 30_000);
      // Counts again after the commit: nothing was indexed twice under another id.
      const counts = await Promise.all(topics.map((topic) => countDocuments(es, topic)));
      assert.deepEqual(counts, [ACCESS, EVENTS, DOTTED], "each index holds exactly its topic's records");

      // The JSON topics carry a sequence number: every value exactly once.
      for (const [topic, n] of [[events, EVENTS], [dotted, DOTTED]] as const) {
        const stats = await fieldStats(es, topic, "seq");
        assert.deepEqual(stats, { count: n, sum: (n * (n - 1)) / 2, min: 0, max: n - 1 }, `seq of ${topic}`);
        const { distinct, duplicated } = await distinctValues(es, topic, "seq");
        assert.equal(distinct, n, `distinct seq values in ${topic}`);
        assert.deepEqual(duplicated, []);
      }

      // Plain text: wrapped as {"message": ...} plus @timestamp, under <topic>-<partition>-<offset>.
      for (const i of [0, 1, 5, 6, 12_345, ACCESS - 1]) {
        const doc = await getSource(es, access, coordinates(access, i));
        assert.ok(doc !== undefined, `access record ${String(i)} under id ${coordinates(access, i)}`);
        assert.deepEqual(Object.keys(doc).sort(), ["@timestamp", "message"]);
        assert.equal(doc.message, accessLine(i));
        assert.match(String(doc["@timestamp"]), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
        assert.ok(Math.abs(Date.parse(String(doc["@timestamp"])) - Date.now()) < 3_600_000, "the Kafka timestamp, which is recent");
      }
      // JSON object: indexed as is, plus @timestamp.
      for (const i of [0, 7, 20_001, EVENTS - 1]) {
        const doc = await getSource(es, events, coordinates(events, i));
        assert.ok(doc !== undefined, `event ${String(i)} under id ${coordinates(events, i)}`);
        const { "@timestamp": timestamp, ...rest } = doc;
        assert.deepEqual(rest, appEvent(i));
        assert.match(String(timestamp), /^\d{4}-\d{2}-\d{2}T/);
      }
      // Dotted names stay as written in _source; nested objects stay nested.
      for (const i of [0, 3, 32_999]) {
        const doc = await getSource(es, dotted, coordinates(dotted, i));
        assert.ok(doc !== undefined, `dotted event ${String(i)} under id ${coordinates(dotted, i)}`);
        const { "@timestamp": timestamp, ...rest } = doc;
        assert.deepEqual(rest, dottedEvent(i));
        assert.ok(Object.hasOwn(doc, "http.request.method"), "the dotted key itself, not http: {request: ...}");
        assert.equal(typeof timestamp, "string");
      }
      // The mapping sees the dotted names as paths: a search on the path finds them.
      await es.indices.refresh({ index: dotted });
      const gets = await es.count({ index: dotted, query: { term: { "http.request.method.keyword": "GET" } } });
      assert.equal(gets.count, DOTTED / 2 + (DOTTED % 2));

      // Ids: every JSON document's _id is its coordinates (checked for a spread of seq values).
      const sample = Array.from({ length: 200 }, (_, k) => Math.floor((k * EVENTS) / 200) + (k % PARTITIONS));
      const hits = await es.search({ index: events, size: sample.length, query: { terms: { seq: sample } }, _source: ["seq"] });
      assert.equal(hits.hits.hits.length, sample.length);
      for (const hit of hits.hits.hits) {
        const seq = (hit._source as { seq: number }).seq;
        assert.equal(hit._id, coordinates(events, seq));
      }

      const exit = await w.stop();
      assert.equal(exit.code, 0, "a clean stop exits 0");
    });
  });
});
