/**
 * Issue 19, item 7 on the real servers (Elasticsearch 8.19 in `make test`, 9.2 in
 * `make test-compat`; the integ-test-zip needs the test plugin's failure-store node
 * feature, see test/infra/README.md):
 * - a data stream with a failure store: documents Elasticsearch redirects there (a
 *   mapping failure) are their own outcome, neither indexed nor rejected;
 * - require_data_stream=true in data-stream mode: a topic whose index has no data-stream
 *   template is held as an operator error instead of creating a plain index;
 * - include_source_on_error=false: a rejected document's source is not echoed into the
 *   error, and so not into the dead-letter headers or the logs.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { countDocuments, testElasticsearch } from "../support/elasticsearch.ts";
import { readTopic } from "../support/dead-letters.ts";
import { waitFor } from "../support/env.ts";
import { suiteFixture } from "../support/fixture.ts";
import { assertHeldAtStart, createTopics, produce, waitForCommittedAtEnd } from "../support/kafka.ts";
import { metricSum, WorkerProcess, withWorkers } from "../support/worker.ts";

const N = 100;
const BAD_EVERY = 5;

describe("data streams: failure store and require_data_stream", () => {
  const { es, name, groupId } = suiteFixture("dstream");
  const topic = `${name}-ds`;
  const untemplated = `${name}-nods`;
  const dataStream = `logs-${topic}-default`;
  after(async () => {
    const client = testElasticsearch();
    // Refused while its data stream exists, and the integ-test-zip cannot delete data streams: names are unique.
    await client.indices.deleteIndexTemplate({ name }, { ignore: [400, 404] });
    await client.close();
  });

  test("failure-store redirects are their own outcome; a topic without a data-stream template is held", async (t) => {
    let worker: WorkerProcess | undefined;
    await withWorkers(() => [worker], async () => {
      await es.transport.request({
        method: "PUT",
        path: `/_index_template/${name}`,
        body: {
          index_patterns: [`logs-${topic}-*`],
          data_stream: {},
          priority: 500,
          template: {
            settings: { number_of_replicas: 0 },
            mappings: { properties: { n: { type: "integer" } } },
            data_stream_options: { failure_store: { enabled: true } },
          },
        },
      });
      await createTopics([topic, untemplated], 2);
      await produce(topic, N, (i) => ({ value: JSON.stringify(i % BAD_EVERY === 0 ? { n: "not a number" } : { n: i }) }), 2);
      await produce(untemplated, 20, (i) => ({ value: JSON.stringify({ n: i }) }), 2);

      const w = new WorkerProcess({
        KAFKA_TOPICS: `${topic},${untemplated}`,
        KAFKA_GROUP_ID: groupId,
        INDEX_DATA_STREAM: "true",
        // A rejection would stop the worker: the failure store must not count as one.
        ON_PERMANENT_ERROR: "stop",
        BULK_RETRY_MAX_MS: "1000",
        SHUTDOWN_TIMEOUT_MS: "2000",
      });
      worker = w;
      await w.ready();
      await waitForCommittedAtEnd(groupId, [topic], 90_000);
      const bad = N / BAD_EVERY;
      assert.equal(await countDocuments(es, dataStream), N - bad);
      assert.equal(await countDocuments(es, `${dataStream}::failures`), bad, "the failure store holds the failed documents");

      const scrape = await w.scrape();
      const settled = (outcome: string): number => metricSum(scrape, "kafka_es_transfer_records_settled_total", { topic, outcome });
      t.diagnostic(`${topic}: consumed ${String(metricSum(scrape, "kafka_es_transfer_records_consumed_total", { topic }))} = indexed ${String(settled("indexed"))} + failure_stored ${String(settled("failure_stored"))}`);
      assert.equal(settled("indexed"), N - bad);
      assert.equal(settled("failure_stored"), bad);
      assert.equal(metricSum(scrape, "kafka_es_transfer_records_failure_stored_total", { index: dataStream }), bad);
      assert.equal(metricSum(scrape, "kafka_es_transfer_records_indexed_total", { index: dataStream }), N - bad);
      assert.equal(metricSum(scrape, "kafka_es_transfer_records_rejected_total"), 0);

      // No template makes logs-<topic>-default a data stream: held, never a plain index.
      await waitFor("the untemplated topic held as an operator error", async () =>
        (await w.metric("kafka_es_transfer_operator_errors_total", { error_type: "index_not_found_exception" })) > 0 ? true : undefined, 60_000, 500);
      await assertHeldAtStart(groupId, untemplated);
      assert.equal(await countDocuments(es, `logs-${untemplated}-default`), 0, "no plain index was created");
      assert.ok(w.running, "the stop policy never fired");
      assert.equal((await w.stop()).code, 0);
    });
  });
});

describe("include_source_on_error=false", () => {
  const { es, name, groupId } = suiteFixture("nosource");
  const topic = `${name}-big`;
  const dlq = `${name}-dlq`;
  const secret = `s3cr3t-${name}`;

  test("a rejected document's source is not echoed into the error a dead letter carries", async () => {
    let worker: WorkerProcess | undefined;
    await withWorkers(() => [worker], async () => {
      await es.indices.create({ index: topic, settings: { number_of_replicas: 0 }, mappings: { properties: { n: { type: "long" } } } });
      await createTopics([topic, dlq], 1);
      // Valid JSON the decoder passes on as it is; Elasticsearch's parser refuses the long.
      await produce(topic, 1, () => ({ value: `{"secret":"${secret}","n":123456789012345678901234567890}` }));
      const w = new WorkerProcess({ KAFKA_TOPICS: topic, KAFKA_GROUP_ID: groupId, DLQ_TOPIC: dlq });
      worker = w;
      await w.ready();
      await waitForCommittedAtEnd(groupId, [topic], 60_000);
      const [letter] = await readTopic(dlq);
      assert.ok(letter !== undefined);
      assert.match(letter.headers["error.reason"] ?? "", /out of range|failed to parse/i);
      assert.ok(!(letter.headers["error.reason"] ?? "").includes(secret), `the reason does not quote the document: ${letter.headers["error.reason"] ?? ""}`);
      const rejectionLines = w.logs.filter((l) => typeof l.reason === "string");
      assert.ok(rejectionLines.every((l) => !String(l.reason).includes(secret)), "nor does any logged reason");
      assert.equal((await w.stop()).code, 0);
    });
  });
});
