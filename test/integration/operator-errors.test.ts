/**
 * Issue 8, item 7: what an operator must fix is held, never skipped. Three topics
 * write to three indices Elasticsearch refuses for reasons that have nothing to do with
 * the documents: a closed index (400 index_closed_exception), a write block (403
 * cluster_block_exception), and an index automatic creation may not create (404
 * index_not_found_exception). Even under ON_PERMANENT_ERROR=skip nothing is skipped:
 * the records are retried, their offsets stay uncommitted, the operator metric counts
 * them; once the operator fixed all three, every record is there exactly once.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { countDocuments, testElasticsearch } from "../support/elasticsearch.ts";
import { waitFor } from "../support/env.ts";
import { committedOffsets, createTopics, produce, waitForCommittedAtEnd, withAdmin } from "../support/kafka.ts";
import { metricSum, WorkerProcess, withWorkers } from "../support/worker.ts";
import { suiteFixture } from "../support/fixture.ts";

const N = 300;

describe("operator-fixable Elasticsearch errors", () => {
  const { es, name, groupId } = suiteFixture("operr");
  const closed = `${name}-closed`;
  const blocked = `${name}-blocked`;
  const missing = `${name}-missing`;
  const topics = [closed, blocked, missing];
  // Registered after the fixture's own clean-up (which closes `es`), so it uses its own client.
  after(async () => {
    const client = testElasticsearch();
    await client.cluster.putSettings({ persistent: { "action.auto_create_index": null } });
    await client.close();
  });

  test("closed index, write block, missing index: held under skip, indexed once fixed", async (t) => {
    let worker: WorkerProcess | undefined;
    await withWorkers(() => [worker], async () => {
      await createTopics(topics, 2);
      await es.indices.create({ index: closed });
      await es.indices.close({ index: closed });
      await es.indices.create({ index: blocked, settings: { "index.blocks.write": true } });
      await es.cluster.putSettings({ persistent: { "action.auto_create_index": `-${missing}*,+*` } });
      for (const topic of topics) await produce(topic, N, (i) => ({ value: JSON.stringify({ seq: i }) }), 2);

      const w = new WorkerProcess({
        KAFKA_TOPICS: topics.join(","),
        KAFKA_GROUP_ID: groupId,
        ON_PERMANENT_ERROR: "skip",
        BULK_RETRY_MAX_MS: "1000",
        KAFKA_COMMIT_INTERVAL_MS: "500",
      });
      worker = w;
      await w.ready();
      // Old behaviour: the closed and missing indices' records were rejected and skipped.
      await waitFor("every record refused at least once", async () => {
        const scrape = await w.scrape();
        const refused = metricSum(scrape, "kafka_es_transfer_records_retried_total") + metricSum(scrape, "kafka_es_transfer_records_rejected_total");
        return refused >= 3 * N ? true : undefined;
      }, 60_000, 500);
      const during = await w.scrape();
      assert.equal(metricSum(during, "kafka_es_transfer_records_rejected_total"), 0, "nothing was rejected (and so nothing skipped)");
      for (const errorType of ["index_closed_exception", "cluster_block_exception", "index_not_found_exception"]) {
        assert.ok(metricSum(during, "kafka_es_transfer_operator_errors_total", { error_type: errorType }) > 0, `${errorType} counted for the operator`);
      }
      assert.ok(metricSum(during, "kafka_es_transfer_records_retried_total", { reason: "blocked" }) >= 3 * N);
      assert.ok(w.logs.some((l) => l.level === "error" && l.msg.includes("operator must fix")), "logged as an error");
      await withAdmin(async (admin) => {
        for (const topic of topics) {
          for (const [partition, offset] of await committedOffsets(admin, groupId, topic)) {
            assert.ok(offset <= 0n, `${topic}[${String(partition)}] not committed past held records (${String(offset)})`);
          }
        }
      });

      await es.indices.open({ index: closed });
      await es.indices.putSettings({ index: blocked, settings: { "index.blocks.write": false } });
      await es.cluster.putSettings({ persistent: { "action.auto_create_index": null } });
      const fixedAt = Date.now();
      await waitForCommittedAtEnd(groupId, topics, 60_000);
      t.diagnostic(`all held records indexed ${String(Date.now() - fixedAt)} ms after the operator fixed the indices`);
      for (const topic of topics) assert.equal(await countDocuments(es, topic), N, `${topic}: every record once`);
      assert.equal(await w.metric("kafka_es_transfer_records_rejected_total"), 0);
      assert.equal((await w.stop()).code, 0);
    });
  });
});
