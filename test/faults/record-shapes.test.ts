/**
 * Fault: every legal record shape in one topic, from real producers, with a dead-letter
 * topic and the metadata field on (so headers reach the documents):
 *
 * - kcat (librdkafka) writes records with null header values (`-H name` without `=`),
 *   repeated names and a null key: before the fix the first one stopped `start` with
 *   "Cannot read properties of null (reading 'length')", and every replica after it;
 * - kafkajs writes the generated shapes (test/support/record-shapes.ts: null, empty and
 *   binary keys and values, JSON, text, invalid JSON, repeated, binary and odd header
 *   names, timestamps -1, 0, far future, int64 max);
 * - a transactional kafkajs producer writes transactions it aborts (in the middle and at
 *   the very end of each partition) and one it commits.
 *
 * The worker never exits; documents + dead letters + skipped tombstones == the records
 * of committed transactions and plain sends; no aborted record is anywhere; the group's
 * committed offsets reach the end (past the abort markers).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { IHeaders, Message } from "kafkajs";
import { countDocuments } from "../support/elasticsearch.ts";
import { readTopic } from "../support/dead-letters.ts";
import { suiteFixture } from "../support/fixture.ts";
import { createTopics, testKafka, waitForCommittedAtEnd } from "../support/kafka.ts";
import { kcatProduce } from "../support/kafka-tools.ts";
import { seededRandom } from "../support/prng.ts";
import { generateShape, type RecordShape } from "../support/record-shapes.ts";
import { WorkerProcess, withWorkers } from "../support/worker.ts";

const PARTITIONS = 2;
const SHAPES = 240;
const PER_TRANSACTION = 5;
const SEED = 16;

/** kcat's records per partition: null header values, repeated names, a null key. */
const KCAT_RECORDS: readonly { readonly args: readonly string[]; readonly value: string }[] = [
  { args: ["-H", "gone", "-H", "tag=a", "-H", "tag=b", "-k", "k1"], value: '{"from":"kcat","shape":"null header, repeated name"}' },
  { args: ["-H", "only-null"], value: "kcat text line, no key, a null header" },
  { args: ["-H", "x", "-H", "x", "-H", "x=1"], value: '{"from":"kcat","shape":"repeated null values"}' },
];

/** A generated shape as kafkajs can send it: null header values dropped (kcat sends those). */
function kafkajsMessage(shape: RecordShape, partition: number): Message {
  const headers: Record<string, Buffer[]> = {};
  for (const [name, value] of shape.headers) {
    if (value === null) continue;
    // Defined, not assigned: a header named __proto__ must stay a header.
    Object.defineProperty(headers, name, { value: [...(Object.hasOwn(headers, name) ? headers[name] ?? [] : []), value], enumerable: true, configurable: true, writable: true });
  }
  const single: IHeaders = Object.fromEntries(Object.entries(headers).map(([name, values]) => [name, values.length === 1 ? values[0] : values]));
  return { key: shape.key, value: shape.value, headers: single, timestamp: shape.timestamp, partition };
}

async function produceShapes(topic: string, shapes: readonly RecordShape[]): Promise<void> {
  const producer = testKafka().producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  try {
    // One send per record: each gets a batch of its own, whatever its timestamp.
    for (const [i, shape] of shapes.entries()) await producer.send({ topic, acks: -1, messages: [kafkajsMessage(shape, i % PARTITIONS)] });
  } finally {
    await producer.disconnect();
  }
}

/** One transaction per partition set: its records marked `aborted` or `committed`. */
async function transaction(topic: string, outcome: "abort" | "commit", round: number): Promise<void> {
  const producer = testKafka().producer({ transactionalId: `${topic}-tx`, idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  try {
    const tx = await producer.transaction();
    const messages = Array.from({ length: PER_TRANSACTION * PARTITIONS }, (_, i) => ({
      partition: i % PARTITIONS,
      value: JSON.stringify({ transaction: outcome === "abort" ? "aborted" : "committed", round, i }),
    }));
    await tx.send({ topic, acks: -1, messages });
    if (outcome === "abort") await tx.abort();
    else await tx.commit();
  } finally {
    await producer.disconnect();
  }
}

describe("fault: every legal record shape in one topic", () => {
  const { es, name: topic, groupId } = suiteFixture("fault-shapes");
  const dlq = `${topic}-dlq`;

  test("kcat null headers, generated shapes, aborted transactions: the worker never exits, nothing lost, nothing aborted indexed", async (t) => {
    let worker: WorkerProcess | undefined;
    await withWorkers(() => [worker], async () => {
      await createTopics([topic, dlq], PARTITIONS);
      const random = seededRandom(SEED);
      const shapes = Array.from({ length: SHAPES }, (_, i) => generateShape(random, BigInt(i)).shape);
      const half = SHAPES / 2;
      for (let partition = 0; partition < PARTITIONS; partition++) {
        for (const record of KCAT_RECORDS) await kcatProduce(["-t", topic, "-p", String(partition), ...record.args], [record.value]);
      }
      await produceShapes(topic, shapes.slice(0, half));
      await transaction(topic, "abort", 1);
      await transaction(topic, "commit", 2);
      await produceShapes(topic, shapes.slice(half));
      // Last in every partition: an abort marker the committed offset must get past.
      await transaction(topic, "abort", 3);

      const records = KCAT_RECORDS.length * PARTITIONS + SHAPES + PER_TRANSACTION * PARTITIONS;
      const tombstones = shapes.filter((s) => s.value === null).length;
      const w = new WorkerProcess({ KAFKA_TOPICS: topic, KAFKA_GROUP_ID: groupId, DLQ_TOPIC: dlq, DOC_METADATA_FIELD: "kafka" }, ["start"], "shapes");
      worker = w;
      await Promise.race([
        waitForCommittedAtEnd(groupId, [topic], 120_000),
        w.exited.then((exit) => assert.fail(`the worker exited (${JSON.stringify(exit)}):\n${w.tail(15)}`)),
      ]);
      assert.ok(w.running, "the worker still runs");

      const documents = await countDocuments(es, topic);
      const letters = await readTopic(dlq);
      const skipped = await w.metric("kafka_es_transfer_records_settled_total", { topic, outcome: "skipped" });
      const types = new Map<string, number>();
      for (const l of letters) types.set(l.headers["error.type"] ?? "?", (types.get(l.headers["error.type"] ?? "?") ?? 0) + 1);
      t.diagnostic(`records ${String(records)}: documents ${String(documents)}, dead letters ${String(letters.length)} ${JSON.stringify(Object.fromEntries(types))}, skipped tombstones ${String(skipped)}`);
      assert.equal(documents + letters.length + skipped, records, "documents + dead letters + skipped tombstones == records");
      assert.equal(skipped, tombstones);
      assert.equal(types.get("decode_error") ?? 0, 0, "nothing failed to decode");

      const aborted = await es.count({ index: topic, query: { term: { "transaction.keyword": "aborted" } } });
      assert.equal(aborted.count, 0, "no record of an aborted transaction is indexed");
      assert.equal(letters.filter((l) => l.value?.toString().includes('"aborted"') === true).length, 0, "nor dead-lettered");
      const committed = await es.count({ index: topic, query: { term: { "transaction.keyword": "committed" } } });
      assert.equal(committed.count, PER_TRANSACTION * PARTITIONS, "every record of the committed transaction is");

      const kcat = await es.search<{ kafka?: { headers?: Record<string, unknown> } }>({ index: topic, query: { term: { "from.keyword": "kcat" } }, size: 10 });
      const withNull = kcat.hits.hits.map((h) => h._source?.kafka?.headers).filter((h) => h !== undefined && Object.hasOwn(h, "gone"));
      assert.equal(withNull.length, PARTITIONS);
      for (const headers of withNull) assert.deepEqual(headers, { gone: null, tag: ["a", "b"] });
      const repeatedNulls = kcat.hits.hits.map((h) => h._source?.kafka?.headers).filter((h) => h !== undefined && Object.hasOwn(h, "x"));
      for (const headers of repeatedNulls) assert.deepEqual(headers, { x: [null, null, "1"] });

      assert.equal(w.logs.filter((l) => l.level === "fatal" || (typeof l.msg === "string" && l.msg.includes("crash"))).length, 0, "no crash logged");
      assert.equal((await w.stop()).code, 0);
    });
  });
});
