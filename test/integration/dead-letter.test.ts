/**
 * The dead-letter topic on the real servers: a poison mix (a mapping conflict, a strict
 * mapping, an oversized field, invalid JSON) goes to the dead-letter topic with the
 * specified headers; documents + dead letters == records in Kafka; offsets reach the
 * end; /metrics reconciles per topic. Then redrive, after the test relaxed the mapping,
 * puts every fixable record under its source id, sends what still fails back with
 * error.attempt + 1, and a second redrive changes nothing in Elasticsearch.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { countDocuments, getSource } from "../support/elasticsearch.ts";
import { readTopic, runRedrive, summaryCount, type ReadRecord } from "../support/dead-letters.ts";
import { suiteFixture } from "../support/fixture.ts";
import { createTopics, endOffsets, produce, waitForCommittedAtEnd } from "../support/kafka.ts";
import { metricSum, WorkerProcess, withWorkers } from "../support/worker.ts";

const N = 2_000;
const PARTITIONS = 2;
const BIG = "x".repeat(40_000);

type Kind = "good" | "conflict" | "strict" | "oversized" | "invalid";

/** Record i's kind: the first 200 are good, so `payload.v` is mapped as a number first. */
function kindOf(i: number): Kind {
  if (i < 200 || i % 10 !== 3) return "good";
  return (["conflict", "strict", "oversized", "invalid"] as const)[Math.floor(i / 10) % 4] ?? "good";
}

function valueOf(i: number): string {
  switch (kindOf(i)) {
    case "good":
      return JSON.stringify({ seq: i, tag: "ok", payload: { v: i } });
    case "conflict":
      return JSON.stringify({ seq: i, tag: "ok", payload: { v: { nested: i } } });
    case "strict":
      return JSON.stringify({ seq: i, tag: "ok", unexpected: true });
    case "oversized":
      return JSON.stringify({ seq: i, tag: BIG });
    case "invalid":
      return `{"seq":${String(i)},"tag":`;
  }
}

const EXPECTED_TYPES: Record<Exclude<Kind, "good">, RegExp> = {
  conflict: /document_parsing_exception|mapper_parsing_exception/,
  strict: /strict_dynamic_mapping_exception|document_parsing_exception/,
  oversized: /illegal_argument_exception|document_parsing_exception/,
  invalid: /strict_dynamic_mapping_exception|document_parsing_exception/,
};

describe("dead-letter topic and redrive", () => {
  const { es, name, groupId } = suiteFixture("dlq");
  const topic = `${name}-src`;
  const dlq = `${name}-dlq`;
  const bad = Array.from({ length: N }, (_, i) => i).filter((i) => kindOf(i) !== "good");
  const seqOf = (partition: number, offset: string): number => partition + PARTITIONS * Number(offset);
  const env = { KAFKA_TOPICS: topic, KAFKA_GROUP_ID: groupId, DLQ_TOPIC: dlq };

  test("poison records go to the dead-letter topic with their headers; nothing is lost", async (t) => {
    let worker: WorkerProcess | undefined;
    await withWorkers(() => [worker], async () => {
      // Strict at the top, dynamic under `payload`: the conflict is a dynamic mapping's.
      await es.indices.create({
        index: topic,
        settings: { number_of_shards: 1, number_of_replicas: 0 },
        mappings: {
          dynamic: "strict",
          properties: { seq: { type: "long" }, tag: { type: "keyword" }, "@timestamp": { type: "date" }, payload: { type: "object", dynamic: true } },
        },
      });
      await createTopics([topic, dlq], PARTITIONS);
      await produce(topic, N, (i) => ({ key: `k${String(i)}`, value: valueOf(i), headers: { origin: `test-${String(i)}` } }), PARTITIONS, 200);

      const w = new WorkerProcess(env);
      worker = w;
      await w.ready();
      await waitForCommittedAtEnd(groupId, [topic], 120_000);

      const documents = await countDocuments(es, topic);
      const letters = await readTopic(dlq);
      t.diagnostic(`kafka ${String(N)} = documents ${String(documents)} + dead letters ${String(letters.length)}`);
      assert.equal(documents, N - bad.length, "every good record indexed");
      assert.equal(letters.length, bad.length, "every bad record dead-lettered exactly once");
      assert.equal(documents + letters.length, N);
      checkHeaders(letters, topic);

      const scrape = await w.scrape();
      const consumed = metricSum(scrape, "kafka_es_transfer_records_consumed_total", { topic });
      const settled = (outcome: string): number => metricSum(scrape, "kafka_es_transfer_records_settled_total", { topic, outcome });
      t.diagnostic(`reconciliation: consumed ${String(consumed)} = indexed ${String(settled("indexed"))} + dead-lettered ${String(settled("dead_lettered"))} + skipped ${String(settled("skipped"))}`);
      assert.equal(consumed, N);
      assert.equal(settled("indexed") + settled("dead_lettered") + settled("skipped"), consumed);
      assert.equal(settled("dead_lettered"), bad.length);
      assert.equal(metricSum(scrape, "kafka_es_transfer_records_dead_lettered_total"), bad.length);
      assert.equal((await w.stop()).code, 0);
    });
  });

  function checkHeaders(letters: readonly ReadRecord[], source: string): void {
    for (const letter of letters) {
      const h = letter.headers;
      const seq = seqOf(Number(h["source.partition"]), h["source.offset"] ?? "");
      const kind = kindOf(seq);
      assert.notEqual(kind, "good", `dead letter for good record ${String(seq)}`);
      assert.equal(h["source.topic"], source);
      assert.equal(letter.value?.toString(), valueOf(seq), "original value bytes");
      assert.equal(letter.key, `k${String(seq)}`, "original key");
      assert.equal(h.origin, `test-${String(seq)}`, "original headers kept");
      assert.equal(h["error.status"], "400");
      assert.match(h["error.type"] ?? "", EXPECTED_TYPES[kind as Exclude<Kind, "good">], `error type of a ${kind} record`);
      assert.ok((h["error.reason"] ?? "").length > 0 && Buffer.byteLength(h["error.reason"] ?? "") <= 1024, "bounded reason");
      assert.equal(h["error.index"], source);
      assert.ok(!Number.isNaN(Date.parse(h["error.time"] ?? "")) && (h["error.time"] ?? "").endsWith("Z"), "ISO 8601 time");
      assert.equal(h["error.attempt"], "1");
    }
  }

  test("redrive after relaxing the mapping: source ids, failures back with attempt + 1, idempotent", async (t) => {
    // Fixes everything but the conflict: a field mapped as a number stays a number.
    await es.indices.putMapping({ index: topic, dynamic: true, properties: { tag: { type: "keyword", ignore_above: 1024 } } });
    const before = await countDocuments(es, topic);
    const endBefore = [...(await endOffsets(dlq)).values()].reduce((a, b) => a + b, 0n);
    const conflicts = bad.filter((i) => kindOf(i) === "conflict");
    const fixable = bad.length - conflicts.length;

    const first = await runRedrive(env);
    t.diagnostic(`first redrive (exit ${String(first.code)}):\n${first.stdout}`);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(summaryCount(first.stdout, "redriven"), fixable);
    assert.equal(summaryCount(first.stdout, "failed again"), conflicts.length);
    assert.match(first.stdout, new RegExp(`^\\s+${topic}\\s+${String(fixable)}$`, "m"), "per index");
    assert.match(first.stderr, /redrive: \d+\/\d+ \(\d+%\), \d+ records\/s, \d+ left/, "progress lines");

    assert.equal(await countDocuments(es, topic), before + fixable);
    for (const i of bad.filter((b) => kindOf(b) !== "conflict")) {
      const id = `${topic}-${String(i % PARTITIONS)}-${String(Math.floor(i / PARTITIONS))}`;
      const doc = await getSource(es, topic, id);
      assert.ok(doc !== undefined, `record ${String(i)} lands under its source id ${id}`);
    }
    const letters = await readTopic(dlq);
    const again = letters.filter((l) => l.headers["error.attempt"] === "2");
    assert.equal(again.length, conflicts.length, "what failed again is back, attempt 2");
    for (const letter of again) {
      assert.equal(letter.headers["source.topic"], topic, "source.* still name the first home");
      assert.equal(kindOf(seqOf(Number(letter.headers["source.partition"]), letter.headers["source.offset"] ?? "")), "conflict");
    }
    assert.equal(BigInt(letters.length), endBefore + BigInt(conflicts.length));

    const second = await runRedrive(env);
    t.diagnostic(`second redrive:\n${second.stdout}`);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(summaryCount(second.stdout, "redriven"), 0, "nothing new lands");
    assert.equal(await countDocuments(es, topic), before + fixable, "Elasticsearch unchanged");
  });
});
