import type { TransferMetrics } from "./metrics.ts";
import type { SinkObserver } from "../sink/observer.ts";

/**
 * The sink's observer backed by the service's metrics (type-only import: the sink
 * itself never loads prom-client). Elasticsearch counts as up whenever a bulk request
 * got an answer, and down when one failed as a whole.
 */
export function metricsObserver(metrics: TransferMetrics): SinkObserver {
  return {
    bulkCompleted({ outcome, durationMs, documents, bytes }) {
      metrics.bulkCompleted(outcome, durationMs / 1000, documents, bytes);
      metrics.setElasticsearchUp(outcome !== "failed");
      if (outcome === "failed") metrics.errorOccurred("bulk");
    },
    documentsIndexed(_count, byIndex) {
      for (const [index, count] of byIndex) metrics.recordsIndexed(index, count);
    },
    documentsFailureStored(_count, byIndex) {
      for (const [index, count] of byIndex) metrics.recordsFailureStored(index, count);
    },
    indexFieldFallback(topic, reason) {
      metrics.indexFieldFallbacks(topic, reason, 1);
    },
    documentsRetried(count, reason) {
      metrics.recordsRetried(reason, count);
    },
    operatorActionNeeded(count, errorType) {
      metrics.operatorErrors(errorType, count);
    },
    documentRejected(event) {
      metrics.recordsRejected(event.errorType, 1);
    },
    recordSkipped(_record, reason) {
      metrics.recordsSkipped(reason, 1);
    },
    inFlight(requests) {
      metrics.setBulkInFlight(requests);
    },
    concurrencyLimit(limit) {
      metrics.setBulkConcurrencyLimit(limit);
    },
    recordAcked(record) {
      metrics.recordAcked(record.topic, record.partition, record.timestamp);
    },
    recordsSettled(topic, outcome, count) {
      metrics.recordsSettled(topic, outcome, count);
    },
    deadLettered(event) {
      metrics.recordsDeadLettered(event.errorType, 1);
    },
    deadLetterFailed() {
      metrics.deadLetterWriteFailed();
      metrics.errorOccurred("dead_letter");
    },
  };
}
