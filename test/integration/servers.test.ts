/**
 * Proves the servers under test are real: kafkajs produces to and consumes from a new
 * topic on the broker, and the Elasticsearch client indexes a document and finds it.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { testElasticsearch } from "../support/elasticsearch.ts";
import { uniqueName, waitFor } from "../support/env.ts";
import { createTopics, produce, testKafka, withAdmin } from "../support/kafka.ts";

describe("the real servers", () => {
  const es = testElasticsearch();
  after(async () => {
    await es.close();
  });

  test("Kafka: a new topic takes records and gives them back to a consumer group", async () => {
    const topic = uniqueName("smoke");
    await createTopics([topic], 2);
    await produce(topic, 10, (i) => ({ key: `k${String(i)}`, value: `hello ${String(i)}` }), 2);

    const consumer = testKafka().consumer({ groupId: uniqueName("smoke-group") });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const seen = new Set<string>();
    await consumer.run({ eachMessage: ({ message }) => { seen.add(message.value?.toString() ?? ""); return Promise.resolve(); } });
    try {
      await waitFor("10 records", () => (seen.size === 10 ? true : undefined), 30_000);
    } finally {
      await consumer.disconnect();
    }
    assert.ok(seen.has("hello 0") && seen.has("hello 9"));

    const cluster = await withAdmin((admin) => admin.describeCluster());
    assert.equal(cluster.brokers.length, 1);
    assert.equal(cluster.brokers[0]?.host, "127.0.0.1");
  });

  test("Elasticsearch: a document is indexed and found by a search", async () => {
    // The integ-test-zip has no rest-root module (GET / answers 405), so the version
    // comes from the nodes API.
    const nodes = await es.nodes.info({ node_id: "_local", filter_path: "nodes.*.version" });
    const versions = Object.values(nodes.nodes).map((n) => n.version);
    // The version services.sh was asked for (ES_VERSION: `make test-compat` runs 9.x), else the pinned 8.19.
    const expected = process.env.ES_VERSION;
    if (expected === undefined) assert.match(versions[0] ?? "", /^8\.19\.\d+$/);
    else assert.equal(versions[0], expected);
    const index = uniqueName("smoke");
    await es.index({ index, id: "1", document: { message: "the quick brown fox", n: 1 }, refresh: "wait_for" });
    const result = await es.search<{ message: string }>({ index, query: { match: { message: "fox" } } });
    assert.equal(result.hits.hits.length, 1);
    assert.equal(result.hits.hits[0]?._source?.message, "the quick brown fox");
    await es.indices.delete({ index });
  });
});
