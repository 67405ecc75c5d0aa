/**
 * Records Elasticsearch refuses for good (a string where the mapping wants a long):
 * with the default "skip" policy they are counted, logged with enough to find them in
 * Kafka, and acknowledged, so the good records around them flow and the offsets reach
 * the end; with "stop" the worker exits non-zero and never commits past the first one.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { countDocuments, deleteIndices, distinctValues, fieldStats, testElasticsearch } from "../support/elasticsearch.ts";
import { uniqueName } from "../support/env.ts";
import { committedOffsets, createTopics, produce, waitForCommittedAtEnd, withAdmin } from "../support/kafka.ts";
import { metricValues, WorkerProcess, withWorkers } from "../support/worker.ts";

const PARSE_ERRORS = ["document_parsing_exception", "mapper_parsing_exception"];

describe("poison records", () => {
  const es = testElasticsearch();
  const base = uniqueName("poison");

  after(async () => {
    await deleteIndices(es, `${base}-*`);
    await es.close();
  });

  /** An index that takes only {seq: long, n: long, @timestamp: date}. */
  async function strictIndex(index: string): Promise<void> {
    await es.indices.create({
      index,
      settings: { number_of_shards: 1, number_of_replicas: 0 },
      mappings: { dynamic: "strict", properties: { seq: { type: "long" }, n: { type: "long" }, "@timestamp": { type: "date" } } },
    });
  }

  test("skip policy: good records indexed, bad ones counted, logged and acknowledged", async (t) => {
    const topic = `${base}-skip`;
    const groupId = `${topic}-group`;
    const N = 6_000;
    const PARTITIONS = 3;
    const isBad = (i: number): boolean => i % 20 === 7;
    const bad = Array.from({ length: N }, (_, i) => i).filter(isBad);
    const good = N - bad.length;
    let worker: WorkerProcess | undefined;
    await withWorkers(() => [worker], async () => {
      await strictIndex(topic);
      await createTopics([topic], PARTITIONS);
      await produce(topic, N, (i) => ({ value: JSON.stringify({ seq: i, n: isBad(i) ? `not a number ${String(i)}` : i }) }), PARTITIONS);

      const w = new WorkerProcess({ KAFKA_TOPICS: topic, KAFKA_GROUP_ID: groupId });
      worker = w;
      await w.ready();
      await waitForCommittedAtEnd(groupId, [topic], 60_000);

      assert.equal(await countDocuments(es, topic), good, "every good record, none of the bad ones");
      const stats = await fieldStats(es, topic, "seq");
      const goodSum = (N * (N - 1)) / 2 - bad.reduce((a, b) => a + b, 0);
      assert.deepEqual(stats, { count: good, sum: goodSum, min: 0, max: N - 1 });
      assert.equal((await distinctValues(es, topic, "seq")).distinct, good);

      const scrape = await w.scrape();
      const rejected = metricValues(scrape, "kafka_es_transfer_records_rejected_total");
      t.diagnostic(`rejected: ${JSON.stringify(rejected)}`);
      assert.equal(rejected.reduce((a, s) => a + s.value, 0), bad.length, "each bad record counted once");
      assert.ok(rejected.every((s) => PARSE_ERRORS.includes(s.labels.error_type ?? "")), "by its error type");
      assert.equal(metricValues(scrape, "kafka_es_transfer_records_indexed_total").reduce((a, s) => a + s.value, 0), good);

      // The log says where the record is, why it was refused, and shows it.
      const lines = w.logs.filter((l) => l.level === "warn" && typeof l.msg === "string" && l.msg.startsWith("record rejected by Elasticsearch"));
      assert.ok(lines.length > 0, "rejections are logged");
      const line = lines[0];
      assert.ok(line !== undefined);
      assert.equal(line.topic, topic);
      assert.equal(typeof line.partition, "number");
      assert.match(String(line.offset), /^\d+$/);
      assert.equal(line.index, topic);
      assert.ok(PARSE_ERRORS.includes(String(line.errorType)), `error type ${String(line.errorType)}`);
      assert.match(String(line.reason), /failed to parse field \[n\] of type \[long\]/);
      // Record i sits in partition i % 3 at offset floor(i / 3): the excerpt is that record.
      const seq = Number(line.partition) + PARTITIONS * Number(line.offset);
      assert.ok(isBad(seq), `the logged coordinates point at a bad record (seq ${String(seq)})`);
      assert.equal(line.excerpt, JSON.stringify({ seq, n: `not a number ${String(seq)}` }));
      t.diagnostic(`${String(lines.length)} rejection log lines for ${String(bad.length)} rejections; first: ${JSON.stringify(line)}`);
      assert.equal((await w.stop()).code, 0);
    });
  });

  test("stop policy: the worker exits non-zero and does not commit past the bad record", async (t) => {
    const topic = `${base}-stop`;
    const groupId = `${topic}-group`;
    const BAD_AT = 3_000;
    const N = 4_000;
    let worker: WorkerProcess | undefined;
    await withWorkers(() => [worker], async () => {
      await strictIndex(topic);
      await createTopics([topic], 1);
      // Producer batches of 500 records, fetched one or two at a time (16 KiB per
      // partition): the checkpointer commits whole fetched batches, so batches before
      // the bad record can be committed and the one holding it cannot.
      await produce(topic, N, (i) => ({ value: JSON.stringify({ seq: i, n: i === BAD_AT ? "not a number" : i }) }), 1, 500);

      const w = new WorkerProcess({
        KAFKA_TOPICS: topic,
        KAFKA_GROUP_ID: groupId,
        ON_PERMANENT_ERROR: "stop",
        BULK_MAX_DOCUMENTS: "500",
        // One request at a time: every record before the bad one is acknowledged first.
        BULK_WORKERS: "1",
        KAFKA_MAX_BYTES_PER_PARTITION: "16384",
        SHUTDOWN_TIMEOUT_MS: "5000",
      });
      worker = w;
      const exit = await Promise.race([
        w.exited,
        new Promise<never>((_, reject) => setTimeout(() => { reject(new Error("the worker did not exit within 60 s")); }, 60_000).unref()),
      ]);
      const stopping = w.logs.find((l) => l.msg === "record rejected by Elasticsearch: stopping");
      assert.ok(stopping !== undefined, "the bad record is logged");
      assert.equal(stopping.offset, String(BAD_AT));
      assert.ok(w.logs.some((l) => l.msg === "fatal error; stopping" && String(l.err).includes(`@${String(BAD_AT)}`)), "a line says why it stopped");

      const committed = await withAdmin((admin) => committedOffsets(admin, groupId, topic));
      const offset = committed.get(0) ?? -1n;
      t.diagnostic(`committed offset after the stop: ${String(offset)} (bad record at ${String(BAD_AT)})`);
      assert.ok(offset <= BigInt(BAD_AT), `committed ${String(offset)} must not pass the bad record at ${String(BAD_AT)}`);
      assert.ok(offset > 0n, "the batches before the bad record were committed on the way out");
      assert.notEqual(exit.code, 0, `a fatal stop exits non-zero (got ${String(exit.code)})`);
    });
  });
});
