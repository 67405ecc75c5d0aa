import type { SchemaObserver } from "../pipeline/schemas/schema-gate.ts";
import type { TransferMetrics } from "./metrics.ts";

/** The schema gate's observer backed by the service's metrics; a failed fetch also counts as an error of kind `schema_registry`. */
export function schemaMetricsObserver(metrics: TransferMetrics): SchemaObserver {
  return {
    schemaFetched(outcome) {
      metrics.schemaFetched(outcome);
      if (outcome !== "success") metrics.errorOccurred("schema_registry");
    },
    recordsAwaitingSchema(count) {
      metrics.setRecordsAwaitingSchema(count);
    },
    schemasCached(count) {
      metrics.setSchemasCached(count);
    },
  };
}
