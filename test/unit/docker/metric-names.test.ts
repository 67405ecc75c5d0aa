import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createMetrics } from "../../../src/telemetry/metrics.ts";
import {
  ALERTS_PATH,
  ALERTS_TEST_PATH,
  DASHBOARD_PATH,
  dashboardExpressions,
  metricFamiliesFromExposition,
  metricNamesIn,
  referencedMetricNames,
  ruleExpressions,
  undeclaredMetricNames,
} from "../../support/metric-names.ts";

interface Panel {
  type?: string;
  title?: string;
  gridPos?: { x: number; y: number; w: number; h: number };
  targets?: { expr?: string }[];
}

describe("dashboard.json", () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD_PATH, "utf8")) as {
    uid?: string;
    title?: string;
    panels?: Panel[];
  };

  test("is a Grafana dashboard with a stable uid and titled panels", () => {
    assert.equal(dashboard.uid, "kafka-es-transfer");
    assert.equal(typeof dashboard.title, "string");
    const panels = (dashboard.panels ?? []).filter((p) => p.type !== "row");
    assert.ok(panels.length >= 20);
    for (const panel of panels) {
      assert.ok(panel.title !== undefined && panel.title !== "", "every panel has a title");
      assert.ok((panel.targets ?? []).length > 0, `panel "${panel.title ?? ""}" has queries`);
    }
  });

  test("panels fit the 24-column grid without overlapping", () => {
    const taken = new Map<string, string>();
    for (const panel of dashboard.panels ?? []) {
      const grid = panel.gridPos;
      assert.ok(grid !== undefined, `panel "${panel.title ?? ""}" has a position`);
      assert.ok(grid.x >= 0 && grid.x + grid.w <= 24);
      for (let x = grid.x; x < grid.x + grid.w; x++) {
        for (let y = grid.y; y < grid.y + grid.h; y++) {
          const other = taken.get(`${x},${y}`);
          assert.equal(other, undefined, `"${panel.title ?? ""}" overlaps "${other ?? ""}"`);
          taken.set(`${x},${y}`, panel.title ?? "");
        }
      }
    }
  });

  test("covers what an operator asks for first", () => {
    const all = dashboardExpressions().panels.join("\n");
    for (const name of [
      "kafka_es_transfer_records_indexed_total",
      "kafka_es_transfer_records_consumed_total",
      "kafka_es_transfer_consumer_lag",
      "kafka_es_transfer_time_lag_seconds",
      "kafka_es_transfer_bulk_request_duration_seconds_bucket",
      "kafka_es_transfer_bulk_documents_bucket",
      "kafka_es_transfer_queue_records",
      "kafka_es_transfer_queue_bytes",
      "kafka_es_transfer_bulk_in_flight",
      "kafka_es_transfer_paused_partitions",
      "kafka_es_transfer_errors_total",
      "kafka_es_transfer_commits_total",
      "kafka_es_transfer_rebalances_total",
      "process_resident_memory_bytes",
      "process_cpu_seconds_total",
    ]) {
      assert.ok(all.includes(name), `dashboard shows ${name}`);
    }
  });
});

describe("alerts.yml", () => {
  const text = readFileSync(ALERTS_PATH, "utf8");
  const alerts = [...text.matchAll(/^\s*- alert:\s*(\S+)/gm)].map((m) => m[1] ?? "");

  test("has the expected alerts, each with summary and description and a promtool test", () => {
    for (const name of [
      "KafkaEsTransferTargetDown",
      "KafkaEsTransferConsumerLagGrowing",
      "KafkaEsTransferNoProgress",
      "KafkaEsTransferTimeLagHigh",
      "KafkaEsTransferRecordsRejected",
      "KafkaEsTransferOperatorActionNeeded",
      "KafkaEsTransferRecordsDeadLettered",
      "KafkaEsTransferRecordsSkipped",
      "KafkaEsTransferBulkFailureRate",
      "KafkaEsTransferElasticsearchUnreachable",
      "KafkaEsTransferRecordsLostToRetention",
    ]) {
      assert.ok(alerts.includes(name), `alert ${name} exists`);
    }
    const blocks = text.split(/^\s*- alert:/m).slice(1);
    assert.equal(blocks.length, alerts.length);
    for (const [i, block] of blocks.entries()) {
      assert.match(block, /\n\s+summary:/, `${alerts[i] ?? ""} has a summary`);
      assert.match(block, /\n\s+description:/, `${alerts[i] ?? ""} has a description`);
    }
    const tests = readFileSync(ALERTS_TEST_PATH, "utf8");
    for (const name of alerts) assert.ok(tests.includes(`alertname: ${name}`), `${name} is tested in alerts.test.yml`);
  });

  test("rule expressions are read in full, block scalars included", () => {
    const expressions = ruleExpressions();
    assert.equal(expressions.length, alerts.length);
    const noProgress = expressions.find((e) => e.includes("unless on (job, instance)") && e.includes("records_indexed"));
    assert.ok(noProgress !== undefined);
    assert.deepEqual(metricNamesIn(noProgress), [
      "kafka_es_transfer_consumer_lag",
      "kafka_es_transfer_records_dead_lettered_total",
      "kafka_es_transfer_records_failure_stored_total",
      "kafka_es_transfer_records_indexed_total",
      "kafka_es_transfer_records_skipped_total",
    ]);
  });
});

describe("metric names used by the dashboard and the alerts", () => {
  const metrics = createMetrics();

  test("are all declared by src/telemetry/metrics.ts", () => {
    const referenced = referencedMetricNames();
    assert.ok(referenced.dashboard.length > 20);
    assert.ok(referenced.rules.length > 8);
    assert.deepEqual(undeclaredMetricNames(referenced.all, metrics.metricNames()), []);
  });

  test("match a scrape of the registry as well (the integration test's view)", async () => {
    const families = metricFamiliesFromExposition(await metrics.scrape());
    assert.deepEqual(families, [...metrics.metricNames()].sort());
    assert.deepEqual(undeclaredMetricNames(referencedMetricNames().all, families), []);
  });

  test("the checker itself catches an undeclared name and accepts histogram series", () => {
    const exposed = ["kafka_es_transfer_bulk_bytes", "kafka_es_transfer_queue_records"];
    assert.deepEqual(
      undeclaredMetricNames(
        ["kafka_es_transfer_bulk_bytes_bucket", "kafka_es_transfer_bulk_bytes_sum", "kafka_es_transfer_queue_records", "kafka_es_transfer_nope", "up"],
        exposed,
      ),
      ["kafka_es_transfer_nope"],
    );
    assert.deepEqual(metricNamesIn('rate(kafka_es_transfer_x_total{job=~"$job"}[5m]) / up'), ["kafka_es_transfer_x_total"]);
  });
});
