/**
 * Held partitions (src/sink/partition-holds.ts) wired to the Kafka reader: the sink
 * decides what is held, the reader pauses and resumes it at Kafka. The sink never
 * imports the source; this is the one place that knows both.
 */
import type { Config } from "../config/schema.ts";
import type { SinkLogger } from "../sink/observer.ts";
import type { HeldPartition } from "../telemetry/metrics.ts";
import { PartitionHolds } from "../sink/partition-holds.ts";
import type { KafkaReader } from "../source/consumer/kafka-reader.ts";

/** The first probe of a held partition comes after about a second, doubling up to bulk.retryMaxMs. */
const FIRST_PROBE_MS = 1_000;

export function composeHolds(config: Config, logger: SinkLogger): PartitionHolds {
  return new PartitionHolds(
    {
      probeInitialMs: Math.min(FIRST_PROBE_MS, config.bulk.retryMaxMs),
      probeMaxMs: config.bulk.retryMaxMs,
      holdMaxMs: config.bulk.holdMaxMs,
    },
    { logger },
  );
}

/** A new hold pauses its partition; a probe or an expiry reads it again from its first unacknowledged offset. */
export function wireHolds(holds: PartitionHolds, reader: Pick<KafkaReader, "holdPartition" | "releasePartition" | "onAssignment">): void {
  holds.onChange((change) => {
    const { topic, partition } = change.hold;
    if (change.kind === "held" || change.kind === "probe_failed") reader.holdPartition(topic, partition);
    else if (change.kind === "probing" || change.kind === "expired") reader.releasePartition(topic, partition);
  });
  reader.onAssignment((assigned) => {
    holds.retain(assigned);
  });
}

/** Held partitions for the metrics: an expired hold is not held any more (its records flow to the failure policy). */
export function heldPartitions(holds: PartitionHolds): HeldPartition[] {
  const now = Date.now();
  return holds.all()
    .filter((hold) => hold.state !== "expired")
    .map((hold) => ({ topic: hold.topic, reason: hold.reason, ageSeconds: Math.max(0, now - hold.since) / 1000 }));
}

/** What /readyz says about held partitions (the worker stays ready: an index is not, the worker is). */
export function heldNotes(holds: PartitionHolds): Record<string, unknown> {
  const held = holds.all().filter((hold) => hold.state !== "expired");
  if (held.length === 0) return {};
  return {
    held_partitions: held.map((hold) => ({
      topic: hold.topic,
      partition: hold.partition,
      reason: hold.reason,
      since: new Date(hold.since).toISOString(),
      first_offset: hold.firstOffset,
      probes_failed: hold.attempts,
    })),
    held_note: "Elasticsearch refuses these partitions' records for a reason an operator must fix (see README, Held partitions); the next probe resumes them once it is fixed",
  };
}
