import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { metricsObserver } from "../../../src/telemetry/sink-observer.ts";
import { createMetrics } from "../../../src/telemetry/metrics.ts";
import { record } from "../sink/fixtures.ts";

describe("metricsObserver", () => {
  test("maps sink events onto the service metrics", async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const observer = metricsObserver(metrics);
    observer.bulkCompleted({ outcome: "success", durationMs: 250, documents: 3, bytes: 1000 });
    observer.bulkCompleted({ outcome: "failed", durationMs: 5, documents: 3, bytes: 1000 });
    observer.documentsIndexed(3, new Map([["logs", 2], ["metrics", 1]]));
    observer.documentsRetried(2, "throttled");
    observer.operatorActionNeeded(4, "index_closed_exception");
    observer.documentRejected({
      topic: "t",
      partition: 0,
      offset: "1",
      index: "logs",
      errorType: "mapper_parsing_exception",
      reason: "r",
      excerpt: "{}",
    });
    observer.recordSkipped(record(2, null), "null_value");
    observer.inFlight(2);
    observer.recordAcked(record(3));
    const text = await metrics.scrape();
    const has = (pattern: RegExp) => {
      assert.match(text, pattern);
    };
    has(/bulk_requests_total\{outcome="success"\} 1/);
    has(/bulk_requests_total\{outcome="failed"\} 1/);
    has(/\{index="logs"\} 2/);
    has(/\{index="metrics"\} 1/);
    has(/\{reason="throttled"\} 2/);
    has(/operator_errors_total\{error_type="index_closed_exception"\} 4/);
    has(/\{error_type="mapper_parsing_exception"\} 1/);
    has(/\{reason="null_value"\} 1/);
    has(/bulk_in_flight 2/);
    has(/elasticsearch_up 0/);
  });
});
