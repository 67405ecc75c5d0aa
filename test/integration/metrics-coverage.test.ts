/**
 * Every metric the Grafana dashboard and the Prometheus alert rules use is exposed by a
 * live worker that has done some work: the dashboards cannot show "No data" because a
 * name drifted, and histograms come with their _bucket, _sum and _count series.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { countDocuments } from "../support/elasticsearch.ts";
import { waitFor } from "../support/env.ts";
import { createTopics, produce, waitForCommittedAtEnd } from "../support/kafka.ts";
import { metricFamiliesFromExposition, PROMETHEUS_GENERATED, referencedMetricNames, undeclaredMetricNames } from "../support/metric-names.ts";
import { metricValues, WorkerProcess, withWorkers } from "../support/worker.ts";
import { suiteFixture } from "../support/fixture.ts";

/**
 * Labelled counters (and the held-partitions gauge) that only count events this test does not cause (no dead-letter
 * destination, no Elasticsearch failure, no schema registry): their family is declared, but a labelled
 * counter has no sample before its first increment.
 */
const EVENT_ONLY = new Set([
  "kafka_es_transfer_records_dead_lettered_total",
  "kafka_es_transfer_records_retried_total",
  "kafka_es_transfer_errors_total",
  "kafka_es_transfer_operator_errors_total",
  "kafka_es_transfer_records_lost_to_retention_total",
  "kafka_es_transfer_records_failure_stored_total",
  "kafka_es_transfer_index_field_fallbacks_total",
  // No topic of this test reads through the schema registry: no fetch is ever made.
  "kafka_es_transfer_schema_fetches_total",
  // A labelled gauge with one series per held topic and reason: none while nothing is held.
  "kafka_es_transfer_partitions_held",
]);

describe("metrics coverage", () => {
  const { es, name: topic, groupId } = suiteFixture("metrics");

  test("a worker that did some work exposes every metric the dashboard and the alerts use", async (t) => {
    let worker: WorkerProcess | undefined;
    await withWorkers(() => [worker], async () => {
      const referenced = referencedMetricNames().all.filter((name) => !PROMETHEUS_GENERATED.includes(name));
      assert.ok(referenced.length >= 20, `the dashboard and rules name metrics (${String(referenced.length)})`);

      await createTopics([topic], 3);
      const w = new WorkerProcess({ KAFKA_TOPICS: topic, KAFKA_GROUP_ID: groupId, KAFKA_LAG_INTERVAL_MS: "1000" });
      worker = w;
      await w.ready();
      // Good records, tombstones (skipped) and one that Elasticsearch refuses (rejected):
      // `_id` is a metadata field and may not appear inside a document.
      await produce(topic, 3_000, (i) => ({
        key: `k${String(i)}`,
        value: i % 1000 === 1 ? null : i === 2_000 ? JSON.stringify({ _id: "not-allowed", seq: i }) : JSON.stringify({ seq: i }),
      }), 3);
      await waitForCommittedAtEnd(groupId, [topic], 60_000);
      assert.equal(await countDocuments(es, topic), 3_000 - 3 - 1);

      // The lag gauge and time lag are refreshed on timers: wait for one more round.
      const scrape = await waitFor("lag series in the scrape", async () => {
        const text = await w.scrape();
        return metricValues(text, "kafka_es_transfer_consumer_lag").length === 3 ? text : undefined;
      }, 15_000);

      const families = metricFamiliesFromExposition(scrape);
      assert.deepEqual(undeclaredMetricNames(referenced, families), [], "every referenced metric family is exposed");

      const withoutSamples = referenced.filter((name) => metricValues(scrape, name).length === 0 && !EVENT_ONLY.has(name));
      assert.deepEqual(withoutSamples, [], "every referenced metric has samples");
      for (const name of EVENT_ONLY) {
        if (referenced.includes(name)) assert.ok(families.includes(name), `${name} is declared`);
      }

      // Histograms: the three series of each, consistent with each other.
      const histograms = [...new Set(referenced.filter((n) => /_(bucket|sum|count)$/.test(n)).map((n) => n.replace(/_(bucket|sum|count)$/, "")))];
      t.diagnostic(`${String(referenced.length)} names referenced, ${String(histograms.length)} histograms: ${histograms.join(", ")}`);
      assert.ok(histograms.length >= 3);
      for (const base of histograms) {
        assert.match(scrape, new RegExp(`^# TYPE ${base} histogram$`, "m"), `${base} is a histogram`);
        const buckets = metricValues(scrape, `${base}_bucket`);
        const count = metricValues(scrape, `${base}_count`);
        const sum = metricValues(scrape, `${base}_sum`);
        assert.ok(buckets.length > 1, `${base}_bucket`);
        assert.equal(count.length, 1, `${base}_count`);
        assert.equal(sum.length, 1, `${base}_sum`);
        const inf = buckets.find((b) => b.labels.le === "+Inf");
        assert.equal(inf?.value, count[0]?.value, `${base}: the +Inf bucket equals the count`);
        assert.ok((count[0]?.value ?? 0) > 0, `${base} observed something`);
      }

      // The work done shows in the counters, exactly.
      const sumOf = (name: string, labels: Record<string, string> = {}): number =>
        metricValues(scrape, name).filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);
      assert.equal(sumOf("kafka_es_transfer_records_consumed_total", { topic }), 3_000);
      assert.equal(sumOf("kafka_es_transfer_records_indexed_total", { index: topic }), 2_996);
      assert.equal(sumOf("kafka_es_transfer_records_skipped_total"), 3);
      assert.equal(sumOf("kafka_es_transfer_records_rejected_total"), 1);
      assert.equal(sumOf("kafka_es_transfer_record_latency_seconds_count"), 3_000, "every record acknowledged: indexed, skipped or rejected");
      assert.equal(sumOf("kafka_es_transfer_assigned_partitions"), 3);
      assert.equal(sumOf("kafka_es_transfer_group_member"), 1);
      assert.equal(sumOf("kafka_es_transfer_elasticsearch_up"), 1);
      assert.equal((await w.stop()).code, 0);
    });
  });
});
