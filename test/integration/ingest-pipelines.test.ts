/**
 * Issue 19, item 4 on the real servers (the ingest processors come from the test
 * plugin in test/infra/es-ingest-plugin: the integ-test-zip has no ingest-common): a
 * global pipeline that enriches every document; per-topic pipelines that fail documents
 * (a `rename` of a missing field, answered 400, and a `fail`, answered 500) so that the
 * failure policy dead-letters exactly those; and a pipeline that does not exist yet,
 * whose records are held as an operator error, never dead-lettered, until it is created.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { countDocuments, getSource, testElasticsearch } from "../support/elasticsearch.ts";
import { readTopic } from "../support/dead-letters.ts";
import { waitFor } from "../support/env.ts";
import { suiteFixture } from "../support/fixture.ts";
import { assertHeldAtStart, createTopics, produce, waitForCommittedAtEnd } from "../support/kafka.ts";
import { metricSum, WorkerProcess, withWorkers } from "../support/worker.ts";

const N = 100;

describe("ingest pipelines", () => {
  const { es, name, groupId } = suiteFixture("ingest");
  const enriched = `${name}-enriched`;
  const renamed = `${name}-renamed`;
  const failing = `${name}-failing`;
  const missing = `${name}-missing`;
  const dlq = `${name}-dlq`;
  const pipeline = (suffix: string): string => `${name}-${suffix}`;
  after(async () => {
    const client = testElasticsearch();
    for (const suffix of ["enrich", "rename", "fail", "late"]) await client.ingest.deletePipeline({ id: pipeline(suffix) }, { ignore: [404] });
    await client.close();
  });

  test("enriching, failing and missing pipelines: enriched, dead-lettered by the failure policy, held until created", async (t) => {
    let worker: WorkerProcess | undefined;
    await withWorkers(() => [worker], async () => {
      await es.ingest.putPipeline({ id: pipeline("enrich"), processors: [{ set: { field: "enriched.by", value: "pipeline" } }] });
      await es.ingest.putPipeline({ id: pipeline("rename"), processors: [{ rename: { field: "must", target_field: "moved" } }] });
      await es.ingest.putPipeline({ id: pipeline("fail"), processors: [{ fail: { message: "refused by the pipeline" } }] });
      const topics = [enriched, renamed, failing, missing];
      await createTopics([...topics, dlq], 2);
      await produce(enriched, N, (i) => ({ value: JSON.stringify({ seq: i }) }), 2);
      // Every third record lacks the field the rename needs.
      await produce(renamed, N, (i) => ({ value: JSON.stringify(i % 3 === 0 ? { seq: i } : { seq: i, must: i }) }), 2);
      await produce(failing, N, (i) => ({ value: JSON.stringify({ seq: i }) }), 2);
      await produce(missing, N, (i) => ({ value: JSON.stringify({ seq: i }) }), 2);

      const w = new WorkerProcess({
        KAFKA_TOPICS: topics.join(","),
        KAFKA_GROUP_ID: groupId,
        DLQ_TOPIC: dlq,
        ES_PIPELINE: pipeline("enrich"),
        TOPIC_SETTINGS: JSON.stringify({ [renamed]: { pipeline: pipeline("rename") }, [failing]: { pipeline: pipeline("fail") }, [missing]: { pipeline: pipeline("late") } }),
        BULK_RETRY_MAX_MS: "1000",
        KAFKA_COMMIT_INTERVAL_MS: "500",
      });
      worker = w;
      await w.ready();
      await waitForCommittedAtEnd(groupId, [enriched, renamed, failing], 90_000);

      // The global pipeline enriched every document of the topic that has no pipeline of its own.
      assert.equal(await countDocuments(es, enriched), N);
      assert.deepEqual((await getSource(es, enriched, `${enriched}-0-0`))?.enriched, { by: "pipeline" });
      // The topic's own pipeline replaced it: documents with the field were renamed, not enriched.
      const withField = Array.from({ length: N }, (_, i) => i).filter((i) => i % 3 !== 0).length;
      assert.equal(await countDocuments(es, renamed), withField);
      const moved = await getSource(es, renamed, `${renamed}-1-0`);
      assert.equal(moved?.moved, 1);
      assert.equal(moved.enriched, undefined);
      assert.equal(await countDocuments(es, failing), 0);

      // Held, not dead-lettered: nothing of the missing pipeline's topic committed yet.
      await waitFor("the missing pipeline counted as an operator error", async () =>
        (await w.metric("kafka_es_transfer_operator_errors_total", { error_type: "illegal_argument_exception" })) > 0 ? true : undefined, 60_000, 500);
      await assertHeldAtStart(groupId, missing);
      assert.equal(await countDocuments(es, missing), 0);

      const letters = await readTopic(dlq);
      const byTopic = (topic: string) => letters.filter((l) => l.headers["source.topic"] === topic);
      assert.equal(byTopic(renamed).length, N - withField, "every document the rename failed (400), and only those");
      assert.ok(byTopic(renamed).every((l) => l.headers["error.type"] === "illegal_argument_exception" && l.headers["error.status"] === "400"));
      assert.equal(byTopic(failing).length, N, "every document the fail processor failed (500)");
      assert.ok(byTopic(failing).every((l) => l.headers["error.type"] === "fail_processor_exception" && l.headers["error.status"] === "500"));
      assert.equal(byTopic(missing).length, 0, "a missing pipeline is never the document's fault");

      // The operator creates the pipeline: the held records go through.
      await es.ingest.putPipeline({ id: pipeline("late"), processors: [{ set: { field: "late", value: true } }] });
      await waitForCommittedAtEnd(groupId, [missing], 60_000);
      assert.equal(await countDocuments(es, missing), N);
      assert.equal((await getSource(es, missing, `${missing}-0-0`))?.late, true);

      const scrape = await w.scrape();
      for (const topic of topics) {
        const settled = (outcome: string): number => metricSum(scrape, "kafka_es_transfer_records_settled_total", { topic, outcome });
        t.diagnostic(`${topic}: consumed ${String(metricSum(scrape, "kafka_es_transfer_records_consumed_total", { topic }))} = indexed ${String(settled("indexed"))} + dead-lettered ${String(settled("dead_lettered"))}`);
        assert.equal(settled("indexed") + settled("dead_lettered"), N, topic);
      }
      assert.equal((await w.stop()).code, 0);
    });
  });
});
