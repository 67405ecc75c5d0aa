import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { MetricValue } from "prom-client";
import { RECORD_LATENCY_BUCKETS, createMetrics, type TransferMetrics } from "../../../src/telemetry/metrics.ts";

async function series(metrics: TransferMetrics, name: string): Promise<MetricValue<string>[]> {
  const metric = metrics.registry.getSingleMetric(name);
  assert.ok(metric !== undefined, `${name} is registered`);
  return (await metric.get()).values;
}

async function valueOf(metrics: TransferMetrics, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const found = (await series(metrics, name)).find((v) =>
    Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want),
  );
  return found?.value;
}

const quiet = (now?: () => number): TransferMetrics =>
  createMetrics({ defaultMetrics: false, version: "1.2.3", ...(now === undefined ? {} : { now }) });

describe("createMetrics", () => {
  test("declares every metric with its labels, prefixed, in its own registry", async () => {
    const metrics = createMetrics({ version: "1.2.3" });
    const expected: Record<string, readonly string[]> = {
      kafka_es_transfer_consumer_lag: ["topic", "partition"],
      kafka_es_transfer_pending_records: ["topic", "partition"],
      kafka_es_transfer_time_lag_seconds: ["topic", "partition"],
      kafka_es_transfer_records_consumed_total: ["topic"],
      kafka_es_transfer_records_indexed_total: ["index"],
      kafka_es_transfer_records_retried_total: ["reason"],
      kafka_es_transfer_records_skipped_total: ["reason"],
      kafka_es_transfer_records_dead_lettered_total: ["reason"],
      kafka_es_transfer_records_rejected_total: ["error_type"],
      kafka_es_transfer_operator_errors_total: ["error_type"],
      kafka_es_transfer_bulk_requests_total: ["outcome"],
      kafka_es_transfer_rebalances_total: [],
      kafka_es_transfer_commits_total: ["outcome"],
      kafka_es_transfer_errors_total: ["kind"],
      kafka_es_transfer_bulk_request_duration_seconds: [],
      kafka_es_transfer_bulk_documents: [],
      kafka_es_transfer_bulk_bytes: [],
      kafka_es_transfer_record_latency_seconds: [],
      kafka_es_transfer_queue_records: [],
      kafka_es_transfer_queue_bytes: [],
      kafka_es_transfer_bulk_in_flight: [],
      kafka_es_transfer_bulk_concurrency_limit: [],
      kafka_es_transfer_paused_partitions: [],
      kafka_es_transfer_assigned_partitions: [],
      kafka_es_transfer_group_member: [],
      kafka_es_transfer_elasticsearch_up: [],
      kafka_es_transfer_last_commit_timestamp_seconds: [],
      kafka_es_transfer_build_info: ["version", "node"],
    };
    const names = metrics.metricNames();
    for (const [name, labels] of Object.entries(expected)) {
      assert.ok(names.includes(name), `${name} declared`);
      const metric = metrics.registry.getSingleMetric(name) as unknown as { labelNames: string[] };
      assert.deepEqual(metric.labelNames, labels, `${name} labels`);
    }
    // Own names are prefixed; the default process metrics keep their standard names.
    for (const name of names) assert.match(name, /^(kafka_es_transfer_|process_|nodejs_)/);
    assert.ok(names.includes("process_resident_memory_bytes"));
    assert.ok(names.includes("process_cpu_seconds_total"));

    const text = await metrics.scrape();
    assert.match(text, /# TYPE kafka_es_transfer_consumer_lag gauge/);
    assert.match(text, /# TYPE kafka_es_transfer_record_latency_seconds histogram/);
    assert.match(text, /kafka_es_transfer_build_info\{version="1\.2\.3",node="v\d+[^"]*"\} 1/);
    assert.match(metrics.contentType, /^text\/plain/);
  });

  test("several registries coexist (no global registry)", async () => {
    const a = createMetrics();
    const b = createMetrics();
    a.recordsConsumed("t", 5);
    assert.equal(await valueOf(a, "kafka_es_transfer_records_consumed_total", { topic: "t" }), 5);
    assert.equal(await valueOf(b, "kafka_es_transfer_records_consumed_total", { topic: "t" }), undefined);
  });

  test("counters take batch counts and ignore zero", async () => {
    const metrics = quiet();
    metrics.recordsConsumed("orders", 500);
    metrics.recordsConsumed("orders", 0);
    metrics.recordsConsumed("users", 3);
    metrics.recordsIndexed("orders-idx", 499);
    metrics.recordsRetried("throttled", 7);
    metrics.recordsSkipped("tombstone", 2);
    metrics.recordsDeadLettered("rejected", 1);
    metrics.recordsRejected("mapper_parsing_exception", 1);
    metrics.errorOccurred("kafka");
    metrics.rebalanced();
    assert.equal(await valueOf(metrics, "kafka_es_transfer_records_consumed_total", { topic: "orders" }), 500);
    assert.equal(await valueOf(metrics, "kafka_es_transfer_records_consumed_total", { topic: "users" }), 3);
    assert.equal(await valueOf(metrics, "kafka_es_transfer_records_indexed_total", { index: "orders-idx" }), 499);
    assert.equal(await valueOf(metrics, "kafka_es_transfer_records_retried_total", { reason: "throttled" }), 7);
    assert.equal(await valueOf(metrics, "kafka_es_transfer_records_skipped_total", { reason: "tombstone" }), 2);
    assert.equal(await valueOf(metrics, "kafka_es_transfer_records_dead_lettered_total", { reason: "rejected" }), 1);
    assert.equal(
      await valueOf(metrics, "kafka_es_transfer_records_rejected_total", { error_type: "mapper_parsing_exception" }),
      1,
    );
    assert.equal(await valueOf(metrics, "kafka_es_transfer_errors_total", { kind: "kafka" }), 1);
    assert.equal(await valueOf(metrics, "kafka_es_transfer_rebalances_total"), 1);
  });

  test("free-text label values are capped, so odd inputs cannot create unbounded series", async () => {
    const metrics = quiet();
    for (let i = 0; i < 80; i++) metrics.recordsRejected(`weird error #${i}`, 1);
    const values = await series(metrics, "kafka_es_transfer_records_rejected_total");
    assert.ok(values.length <= 51, `got ${values.length} series`);
    assert.equal(values.find((v) => v.labels.error_type === "other")?.value, 30);
    for (const v of values) assert.match(String(v.labels.error_type), /^[A-Za-z0-9_.:-]+$/);
  });

  test("consumer lag is clamped to >= 0 and accepts bigint", async () => {
    const metrics = quiet();
    metrics.setConsumerLag("t", 0, -5);
    metrics.setConsumerLag("t", 1, 12n);
    assert.equal(await valueOf(metrics, "kafka_es_transfer_consumer_lag", { topic: "t", partition: "0" }), 0);
    assert.equal(await valueOf(metrics, "kafka_es_transfer_consumer_lag", { topic: "t", partition: "1" }), 12);
  });

  test("removePartition removes every series of that partition and only those", async () => {
    let now = 1_000_000;
    const metrics = quiet(() => now);
    for (const partition of [0, 1]) {
      metrics.setConsumerLag("t", partition, 10);
      metrics.setPendingRecords("t", partition, 3);
      metrics.recordAcked("t", partition, now - 2000);
    }
    metrics.setConsumerLag("other", 0, 1);
    now += 1000;
    let text = await metrics.scrape();
    assert.match(text, /time_lag_seconds\{topic="t",partition="0"\} 3/);

    metrics.removePartition("t", 0);
    text = await metrics.scrape();
    const lines = text.split("\n").filter((l) => !l.startsWith("#"));
    assert.deepEqual(lines.filter((l) => l.includes('topic="t"') && l.includes('partition="0"')), []);
    for (const name of ["consumer_lag", "pending_records", "time_lag_seconds"]) {
      assert.ok(lines.some((l) => l.startsWith(`kafka_es_transfer_${name}{topic="t",partition="1"}`)), `${name} of t/1 kept`);
    }
    assert.ok(lines.some((l) => l.startsWith('kafka_es_transfer_consumer_lag{topic="other",partition="0"}')));

    // A late ack of the revoked partition's in-flight record must not bring the series back.
    metrics.recordAcked("t", 0, now - 100);
    text = await metrics.scrape();
    assert.doesNotMatch(text, /time_lag_seconds\{topic="t",partition="0"\}/);
  });

  test("time lag is computed at scrape time, keeps growing while stuck, and is 0 when caught up", async () => {
    let now = 5_000_000;
    const metrics = quiet(() => now);
    metrics.setPendingRecords("t", 0, 4);
    const timeLag = (): Promise<number | undefined> =>
      valueOf(metrics, "kafka_es_transfer_time_lag_seconds", { topic: "t", partition: "0" });

    // Before any ack there is no reference point: no series.
    assert.equal(await timeLag(), undefined);

    metrics.recordAcked("t", 0, now - 1500);
    assert.equal(await timeLag(), 1.5);
    now += 10_000; // stuck: nothing acked for 10 s
    assert.equal(await timeLag(), 11.5);

    // Out-of-order acks: an older timestamp does not move the reference back.
    metrics.recordAcked("t", 0, now - 60_000);
    assert.equal(await timeLag(), 11.5);
    metrics.recordAcked("t", 0, now - 500);
    assert.equal(await timeLag(), 0.5);

    // Caught up: nothing pending, brokers say no lag.
    metrics.setPendingRecords("t", 0, 0);
    metrics.setConsumerLag("t", 0, 0);
    now += 600_000;
    assert.equal(await timeLag(), 0);

    // New records arrive and wait: the lag counts from the last ack again.
    metrics.setConsumerLag("t", 0, 20);
    assert.equal(await timeLag(), 600.5);
  });

  test("record latency: observed per ack, with buckets around a 1.5 s p99", async () => {
    const now = 10_000_000;
    const metrics = quiet(() => now);
    metrics.recordAcked("t", 0, now - 1400);
    metrics.recordAcked("t", 0, now + 50); // producer clock ahead: counted as 0, not negative
    for (const bound of [0.5, 1, 1.5, 2]) assert.ok(RECORD_LATENCY_BUCKETS.includes(bound));
    const text = await metrics.scrape();
    assert.match(text, /kafka_es_transfer_record_latency_seconds_bucket\{le="1\.25"\} 1\n/);
    assert.match(text, /kafka_es_transfer_record_latency_seconds_bucket\{le="1\.5"\} 2\n/);
    assert.match(text, /kafka_es_transfer_record_latency_seconds_sum 1\.4\n/);
    assert.match(text, /kafka_es_transfer_record_latency_seconds_count 2\n/);
  });

  test("gauges, bulk histograms and commits", async () => {
    const now = 1_700_000_000_000;
    const metrics = quiet(() => now);
    metrics.setQueue(120, 4096);
    metrics.setBulkInFlight(2);
    metrics.setPausedPartitions(3);
    metrics.setAssignedPartitions(6);
    metrics.setGroupMember(true);
    metrics.setElasticsearchUp(false);
    metrics.bulkCompleted("partial", 0.3, 500, 2_000_000);
    metrics.commitCompleted("success");
    metrics.commitCompleted("failure");
    assert.equal(await valueOf(metrics, "kafka_es_transfer_queue_records"), 120);
    assert.equal(await valueOf(metrics, "kafka_es_transfer_queue_bytes"), 4096);
    assert.equal(await valueOf(metrics, "kafka_es_transfer_bulk_in_flight"), 2);
    assert.equal(await valueOf(metrics, "kafka_es_transfer_paused_partitions"), 3);
    assert.equal(await valueOf(metrics, "kafka_es_transfer_assigned_partitions"), 6);
    assert.equal(await valueOf(metrics, "kafka_es_transfer_group_member"), 1);
    assert.equal(await valueOf(metrics, "kafka_es_transfer_elasticsearch_up"), 0);
    assert.equal(await valueOf(metrics, "kafka_es_transfer_bulk_requests_total", { outcome: "partial" }), 1);
    assert.equal(await valueOf(metrics, "kafka_es_transfer_commits_total", { outcome: "success" }), 1);
    assert.equal(await valueOf(metrics, "kafka_es_transfer_commits_total", { outcome: "failure" }), 1);
    assert.equal(await valueOf(metrics, "kafka_es_transfer_last_commit_timestamp_seconds"), 1_700_000_000);
    const text = await metrics.scrape();
    assert.match(text, /kafka_es_transfer_bulk_documents_sum 500/);
    assert.match(text, /kafka_es_transfer_bulk_bytes_sum 2000000/);
    assert.match(text, /kafka_es_transfer_bulk_request_duration_seconds_count 1/);
  });

  test("beforeScrape hooks refresh polled gauges; a failing hook is counted, not fatal", async () => {
    const metrics = quiet();
    let depth = 0;
    metrics.beforeScrape(() => {
      metrics.setQueue(depth, depth * 100);
    });
    metrics.beforeScrape(() => {
      throw new Error("boom");
    });
    depth = 7;
    const text = await metrics.scrape();
    assert.match(text, /kafka_es_transfer_queue_records 7/);
    assert.match(text, /kafka_es_transfer_errors_total\{kind="metrics_hook"\} 1/);
  });
});
