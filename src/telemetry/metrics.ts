/**
 * Every metric the service exposes, declared in one place so that the dashboard, the
 * alert rules and the tests have a single list to check against.
 *
 * - All names start with `kafka_es_transfer_`. The Node.js default metrics keep their
 *   standard unprefixed names (`process_cpu_seconds_total`, `process_resident_memory_bytes`,
 *   `nodejs_*`): stock dashboards and alerts for Node processes work unchanged, and the
 *   Prometheus `job`/`instance` labels already say which service they belong to.
 * - Each call to `createMetrics()` builds its own `Registry` (never prom-client's global
 *   one), so tests can create as many as they like.
 * - Label values are bounded: topic, partition, outcome; index names, error types and
 *   reasons are capped by `BoundedLabel`. Never offsets, keys or document ids.
 * - The hot path takes counts (`recordsConsumed(topic, n)`), so a batch of 500 records
 *   costs one label lookup, not 500.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { LastPartitionKey, partitionKey } from "../pipeline/record.ts";
import { BoundedLabel } from "./bounded-label.ts";
import { CountingHistogram } from "./counting-histogram.ts";

export const METRIC_PREFIX = "kafka_es_transfer_";

export type BulkOutcome = "success" | "partial" | "retry" | "failed";
export type CommitOutcome = "success" | "failure";

/** Buckets for "Kafka timestamp -> acknowledged": fine around 0.5-3 s so a 1.5 s p99 reads well. */
export const RECORD_LATENCY_BUCKETS: readonly number[] = [
  0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 2, 2.5, 3, 5, 10, 30, 60, 300, 900, 3600,
];
export const BULK_DURATION_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2.5, 5, 10, 30, 60,
];
export const BULK_DOCUMENTS_BUCKETS: readonly number[] = [
  1, 10, 50, 100, 250, 500, 1000, 2000, 5000, 10000, 20000,
];
const MIB = 1024 * 1024;
export const BULK_BYTES_BUCKETS: readonly number[] = [
  16 * 1024, 64 * 1024, 256 * 1024, MIB, 2 * MIB, 5 * MIB, 10 * MIB, 15 * MIB, 25 * MIB, 50 * MIB, 100 * MIB,
];

/** Distinct values allowed per free-text label before new ones become `other`. */
const MAX_FREE_LABEL_VALUES = 50;
const MAX_INDEX_LABEL_VALUES = 100;

export interface MetricsOptions {
  /** Service version for `build_info`. */
  readonly version?: string;
  /** Register the standard `process_*` / `nodejs_*` metrics (default true). */
  readonly defaultMetrics?: boolean;
  /** Milliseconds since the epoch; injectable so tests control the time lag. */
  readonly now?: () => number;
}

type PartitionLabels = "topic" | "partition";

interface PartitionState {
  readonly labels: { topic: string; partition: string };
  lag: number | undefined;
  pending: number;
  lastAckedMs: number | undefined;
}

/** One held partition, as the metrics see it. */
export interface HeldPartition {
  readonly topic: string;
  readonly reason: string;
  readonly ageSeconds: number;
}

export interface TransferMetrics {
  readonly registry: Registry;
  /** The Content-Type of `scrape()`'s text. */
  readonly contentType: string;
  /**
   * Runs before each `scrape()`: lets the composition root copy polled state (pending
   * counts from the checkpointer, queue sizes) into gauges only when someone looks.
   */
  beforeScrape(hook: () => void): void;
  /** The exposition text, as served on /metrics (runs the `beforeScrape` hooks first). */
  scrape(): Promise<string>;
  /** Names of every metric family in the registry (histograms without `_bucket`/`_sum`/`_count`). */
  metricNames(): string[];

  // Source side.
  recordsConsumed(topic: string, count: number): void;
  /** High watermark minus committed offset; negative values (stale reads) are clamped to 0. */
  setConsumerLag(topic: string, partition: number, lag: number | bigint): void;
  /** Records fetched from this partition and not yet acknowledged. */
  setPendingRecords(topic: string, partition: number, count: number): void;
  /**
   * One record acknowledged (indexed, skipped or dead-lettered): observes its end-to-end
   * latency and moves the partition's time lag reference forward. The time lag series of
   * a partition exists once `setConsumerLag` or `setPendingRecords` was called for it
   * (and until `removePartition`); it reads 0 while lag and pending are both 0.
   */
  recordAcked(topic: string, partition: number, timestampMs: number): void;
  /** Drops every per-partition series of a revoked partition, from every metric. */
  removePartition(topic: string, partition: number): void;
  rebalanced(): void;
  setGroupMember(joined: boolean): void;
  setAssignedPartitions(count: number): void;
  setPausedPartitions(count: number): void;
  commitCompleted(outcome: CommitOutcome): void;
  /** Records deleted by retention before the group read them (never indexed). */
  recordsLostToRetention(topic: string, count: number): void;

  // Pipeline.
  setQueue(records: number, bytes: number): void;
  recordsSkipped(reason: string, count: number): void;

  // Sink side.
  bulkCompleted(outcome: BulkOutcome, durationSeconds: number, documents: number, bytes: number): void;
  /** Documents Elasticsearch acknowledged, per target index (at most 100 index names, then `other`). */
  recordsIndexed(index: string, count: number): void;
  /** Documents Elasticsearch kept in a data stream's failure store instead of indexing them, per data stream. */
  recordsFailureStored(index: string, count: number): void;
  /** Records routed to their index template's fallback (`{field:...}` missing, not a string, or past index.maxFieldValues). */
  indexFieldFallbacks(topic: string, reason: string, count: number): void;
  recordsRetried(reason: string, count: number): void;
  /** Documents held for an operator (missing or closed index, block, privileges), by error type. */
  operatorErrors(errorType: string, count: number): void;
  recordsRejected(errorType: string, count: number): void;
  recordsDeadLettered(reason: string, count: number): void;
  /**
   * Records of `topic` settled with `outcome` (indexed, dead_lettered, skipped, dropped, failure_stored):
   * per topic, consumed == the sum over outcomes once nothing is in flight.
   */
  recordsSettled(topic: string, outcome: string, count: number): void;
  /** A write to the dead-letter topic failed (the record is held and retried). */
  deadLetterWriteFailed(): void;
  setBulkInFlight(count: number): void;
  /** Bulk requests allowed in flight: the adaptive concurrency limit (at most bulk.workers). */
  setBulkConcurrencyLimit(limit: number): void;
  setElasticsearchUp(up: boolean): void;
  /**
   * Partitions held now because Elasticsearch refuses their records for an operator
   * reason (closed index, write block...), each with its error type and its age.
   */
  setHeldPartitions(holds: readonly HeldPartition[]): void;

  // Schema registry.
  /** One fetch of a schema by id: success, not_found (the registry does not know the id) or error. */
  schemaFetched(outcome: "success" | "not_found" | "error"): void;
  /** Records held until their schema is fetched. */
  setRecordsAwaitingSchema(count: number): void;
  setSchemasCached(count: number): void;

  /** Any error worth counting, by a short fixed kind (e.g. `kafka`, `commit`, `bulk`). */
  errorOccurred(kind: string): void;
}

const EVENT_LOOP_SAMPLE_MS = 100;

/** What each group of metrics is declared with: the registry and the clock. */
interface Declare {
  readonly registers: Registry[];
  readonly now: () => number;
  counter<L extends string = never>(suffix: string, help: string, labelNames?: readonly L[]): Counter<L>;
  gauge(suffix: string, help: string): Gauge;
  histogram(suffix: string, help: string, buckets: readonly number[]): Histogram;
  /** A histogram observed once per record (see CountingHistogram). */
  countingHistogram(suffix: string, help: string, buckets: readonly number[]): CountingHistogram;
}

function declarer(registry: Registry, now: () => number): Declare {
  const registers = [registry];
  const name = (suffix: string): string => METRIC_PREFIX + suffix;
  return {
    registers,
    now,
    counter: <L extends string = never>(suffix: string, help: string, labelNames: readonly L[] = []) =>
      new Counter<L>({ name: name(suffix), help, labelNames, registers }),
    gauge: (suffix, help) => new Gauge({ name: name(suffix), help, registers }),
    histogram: (suffix, help, buckets) => new Histogram({ name: name(suffix), help, buckets: [...buckets], registers }),
    countingHistogram: (suffix, help, buckets) => new CountingHistogram({ name: name(suffix), help, buckets: [...buckets], registers }),
  };
}

type PartitionMetrics = Pick<TransferMetrics, "setConsumerLag" | "setPendingRecords" | "recordAcked" | "removePartition">;

/** Per-partition series (lag, pending, time lag) and the end-to-end latency of each acked record. */
function partitionMetrics(d: Declare): PartitionMetrics {
  const partitions = new Map<string, PartitionState>();
  const perPartition = (suffix: string, help: string, collect?: (this: Gauge<PartitionLabels>) => void): Gauge<PartitionLabels> =>
    new Gauge<PartitionLabels>({ name: METRIC_PREFIX + suffix, help, labelNames: ["topic", "partition"], registers: d.registers, collect });
  const consumerLag = perPartition("consumer_lag", "Records between the group's committed offset and the high watermark, per partition.");
  const pendingRecords = perPartition("pending_records", "Records fetched from the partition and not yet acknowledged by Elasticsearch.");
  // Computed at scrape time, so a stuck partition's value keeps growing between acks.
  const timeLag = perPartition("time_lag_seconds", "Seconds between now and the Kafka timestamp of the last acknowledged record (0 when caught up).", function collect() {
    const nowMs = d.now();
    for (const state of partitions.values()) {
      if (state.lastAckedMs === undefined) continue;
      const caughtUp = state.lag === 0 && state.pending === 0;
      this.set(state.labels, caughtUp ? 0 : Math.max(0, (nowMs - state.lastAckedMs) / 1000));
    }
  });
  // No labels: observed once per record, so it must stay a bucket scan, not a label hash.
  const recordLatency = d.countingHistogram("record_latency_seconds", "Seconds from the record's Kafka timestamp to its acknowledgement.", RECORD_LATENCY_BUCKETS);

  const ackedKey = new LastPartitionKey();
  const stateOf = (topic: string, partition: number): PartitionState => {
    const key = partitionKey(topic, partition);
    let state = partitions.get(key);
    if (state === undefined) {
      state = { labels: { topic, partition: String(partition) }, lag: undefined, pending: 0, lastAckedMs: undefined };
      partitions.set(key, state);
    }
    return state;
  };
  return {
    setConsumerLag(topic, partition, lag) {
      const state = stateOf(topic, partition);
      state.lag = Math.max(0, Number(lag));
      consumerLag.set(state.labels, state.lag);
    },
    setPendingRecords(topic, partition, count) {
      const state = stateOf(topic, partition);
      state.pending = Math.max(0, count);
      pendingRecords.set(state.labels, state.pending);
    },
    recordAcked(topic, partition, timestampMs) {
      recordLatency.add(Math.max(0, (d.now() - timestampMs) / 1000));
      // Only partitions already known (through lag or pending counts) are tracked: acks of
      // a revoked partition's in-flight records keep arriving after removePartition, and
      // must not bring its series back.
      const state = partitions.get(ackedKey.of(topic, partition));
      if (state === undefined) return;
      // Acks arrive out of order across workers: keep the newest timestamp seen.
      if (state.lastAckedMs === undefined || timestampMs > state.lastAckedMs) state.lastAckedMs = timestampMs;
    },
    removePartition(topic, partition) {
      const key = partitionKey(topic, partition);
      const labels = partitions.get(key)?.labels ?? { topic, partition: String(partition) };
      partitions.delete(key);
      for (const metric of [consumerLag, pendingRecords, timeLag]) metric.remove(labels);
    },
  };
}

type GroupMetrics = Pick<
  TransferMetrics,
  "recordsConsumed" | "rebalanced" | "setGroupMember" | "setAssignedPartitions" | "setPausedPartitions" | "recordsLostToRetention" | "commitCompleted"
>;

/** The consumer group member: what it fetched, owns and committed. */
function groupMetrics(d: Declare): GroupMetrics {
  const consumed = d.counter("records_consumed_total", "Records fetched from Kafka and handed to the pipeline.", ["topic"]);
  const lostToRetention = d.counter(
    "records_lost_to_retention_total",
    "Records deleted by Kafka retention before this group read them: never indexed. Any increase is data loss to alert on.",
    ["topic"],
  );
  const rebalances = d.counter("rebalances_total", "Consumer group rebalances this member went through.");
  const commits = d.counter("commits_total", "Offset commits by outcome.", ["outcome"]);
  const pausedPartitions = d.gauge("paused_partitions", "Assigned partitions paused for back-pressure.");
  const assignedPartitions = d.gauge("assigned_partitions", "Partitions assigned to this member.");
  const groupMember = d.gauge("group_member", "1 while this process is a member of the consumer group.");
  const lastCommit = d.gauge("last_commit_timestamp_seconds", "Unix time of the last successful offset commit.");
  return {
    recordsConsumed(topic, count) {
      if (count > 0) consumed.inc({ topic }, count);
    },
    rebalanced: () => { rebalances.inc(); },
    setGroupMember: (joined) => { groupMember.set(joined ? 1 : 0); },
    setAssignedPartitions: (count) => { assignedPartitions.set(count); },
    setPausedPartitions: (count) => { pausedPartitions.set(count); },
    recordsLostToRetention(topic, count) {
      if (count > 0) lostToRetention.inc({ topic }, count);
    },
    commitCompleted(outcome) {
      commits.inc({ outcome });
      if (outcome === "success") lastCommit.set(d.now() / 1000);
    },
  };
}

type OutcomeMetrics = Pick<
  TransferMetrics,
  | "recordsSkipped"
  | "recordsIndexed"
  | "recordsFailureStored"
  | "indexFieldFallbacks"
  | "recordsRetried"
  | "operatorErrors"
  | "recordsRejected"
  | "recordsDeadLettered"
  | "recordsSettled"
  | "deadLetterWriteFailed"
>;

/** What became of the records: indexed, retried, rejected, dead-lettered, skipped, held. Free-text labels are bounded. */
function outcomeMetrics(d: Declare): OutcomeMetrics {
  const indexed = d.counter("records_indexed_total", "Records Elasticsearch acknowledged, by target index.", ["index"]);
  const failureStored = d.counter(
    "records_failure_stored_total",
    "Records Elasticsearch did not index but kept in the data stream's failure store (an ingest pipeline or mapping failure), by data stream: neither indexed nor dead-lettered.",
    ["index"],
  );
  const fieldFallbacks = d.counter(
    "index_field_fallbacks_total",
    "Records routed to their index template's fallback instead of by {field:...}: reason missing, not_string or limit (a new value past index.maxFieldValues).",
    ["topic", "reason"],
  );
  const retried = d.counter("records_retried_total", "Records sent again after a transient failure (429, 5xx, timeout).", ["reason"]);
  const skipped = d.counter("records_skipped_total", "Records acknowledged without being indexed (tombstone, rejected, undecodable).", ["reason"]);
  const deadLettered = d.counter("records_dead_lettered_total", "Records written to the dead-letter topic (and acknowledged by Kafka), by error type.", ["reason"]);
  const settled = d.counter(
    "records_settled_total",
    "Records settled per source topic and outcome (indexed, dead_lettered, skipped, dropped, failure_stored): with nothing in flight, records_consumed_total equals their sum.",
    ["topic", "outcome"],
  );
  const deadLetterFailures = d.counter("dead_letter_write_failures_total", "Failed writes to the dead-letter topic; each one holds its record (and partition) until a retry succeeds.");
  const rejected = d.counter("records_rejected_total", "Records Elasticsearch permanently rejected, by error type.", ["error_type"]);
  const operatorErrors = d.counter(
    "operator_errors_total",
    "Documents Elasticsearch refused for a reason an operator must fix (missing or closed index, write block, privileges, data-stream op type), by error type: held and retried, never skipped.",
    ["error_type"],
  );
  const reasons = new BoundedLabel(MAX_FREE_LABEL_VALUES);
  const errorTypes = new BoundedLabel(MAX_FREE_LABEL_VALUES);
  // Date-based index names grow one a day; the cap keeps a long-lived process bounded.
  const indices = new BoundedLabel(MAX_INDEX_LABEL_VALUES);
  const countBy = <L extends string>(counter: Counter<L>, label: L, bound: BoundedLabel) => (value: string, count: number): void => {
    if (count > 0) counter.inc({ [label]: bound.value(value) } as Partial<Record<L, string>>, count);
  };
  return {
    recordsSkipped: countBy(skipped, "reason", reasons),
    recordsIndexed: countBy(indexed, "index", indices),
    recordsFailureStored: countBy(failureStored, "index", indices),
    indexFieldFallbacks(topic, reason, count) {
      if (count > 0) fieldFallbacks.inc({ topic, reason }, count);
    },
    recordsRetried: countBy(retried, "reason", reasons),
    operatorErrors: countBy(operatorErrors, "error_type", errorTypes),
    recordsRejected: countBy(rejected, "error_type", errorTypes),
    recordsDeadLettered: countBy(deadLettered, "reason", reasons),
    recordsSettled(topic, outcome, count) {
      if (count > 0) settled.inc({ topic, outcome }, count);
    },
    deadLetterWriteFailed: () => { deadLetterFailures.inc(); },
  };
}

type BulkMetrics = Pick<TransferMetrics, "bulkCompleted" | "setBulkInFlight" | "setBulkConcurrencyLimit" | "setElasticsearchUp" | "setQueue">;

/** The bulk requests (outcomes, sizes, durations, concurrency), Elasticsearch's reachability, and the queue feeding them. */
function bulkMetrics(d: Declare): BulkMetrics {
  const bulkRequests = d.counter("bulk_requests_total", "Bulk requests by outcome: success, partial (some items failed), retry, failed.", ["outcome"]);
  const bulkDuration = d.histogram("bulk_request_duration_seconds", "Duration of one bulk request to Elasticsearch.", BULK_DURATION_BUCKETS);
  const bulkDocuments = d.histogram("bulk_documents", "Documents per bulk request.", BULK_DOCUMENTS_BUCKETS);
  const bulkBytes = d.histogram("bulk_bytes", "Body size of one bulk request in bytes.", BULK_BYTES_BUCKETS);
  const queueRecords = d.gauge("queue_records", "Records waiting in the in-memory queue.");
  const queueBytes = d.gauge("queue_bytes", "Bytes held by records waiting in the in-memory queue.");
  const bulkInFlight = d.gauge("bulk_in_flight", "Bulk requests currently in flight.");
  const bulkConcurrencyLimit = d.gauge("bulk_concurrency_limit", "Bulk requests allowed in flight now (adaptive, at most bulk.workers).");
  const elasticsearchUp = d.gauge("elasticsearch_up", "1 when the last contact with Elasticsearch succeeded.");
  return {
    bulkCompleted(outcome, durationSeconds, documents, bytes) {
      bulkRequests.inc({ outcome });
      bulkDuration.observe(Math.max(0, durationSeconds));
      bulkDocuments.observe(documents);
      bulkBytes.observe(bytes);
    },
    setBulkInFlight: (count) => { bulkInFlight.set(count); },
    setBulkConcurrencyLimit: (limit) => { bulkConcurrencyLimit.set(limit); },
    setElasticsearchUp: (up) => { elasticsearchUp.set(up ? 1 : 0); },
    setQueue(records, bytes) {
      queueRecords.set(records);
      queueBytes.set(bytes);
    },
  };
}

type HoldMetrics = Pick<TransferMetrics, "setHeldPartitions">;

/** Held partitions by topic and reason, and the age of the oldest hold (0 when none). */
function holdMetrics(d: Declare): HoldMetrics {
  const held = new Gauge<"topic" | "reason">({
    name: METRIC_PREFIX + "partitions_held",
    help: "Partitions held (paused at Kafka, probed with backoff) because Elasticsearch refuses their records for a reason an operator must fix, by topic and error type.",
    labelNames: ["topic", "reason"],
    registers: d.registers,
  });
  const oldest = d.gauge("partition_hold_age_seconds", "Age of the oldest partition hold in seconds (0 when no partition is held).");
  oldest.set(0);
  return {
    setHeldPartitions(holds) {
      held.reset();
      let age = 0;
      for (const hold of holds) {
        held.inc({ topic: hold.topic, reason: hold.reason });
        age = Math.max(age, hold.ageSeconds);
      }
      oldest.set(age);
    },
  };
}

type SchemaMetrics = Pick<TransferMetrics, "schemaFetched" | "setRecordsAwaitingSchema" | "setSchemasCached">;

/** The schema registry: fetches by outcome, the records waiting for one, the schemas cached. */
function schemaMetrics(d: Declare): SchemaMetrics {
  const fetches = d.counter("schema_fetches_total", "Schema fetches from the registry by outcome: success, not_found (unknown id), error (unreachable, timeout, 5xx); failures are retried while records wait.", ["outcome"]);
  const awaiting = d.gauge("records_awaiting_schema", "Records held (unacknowledged, their partition's commit below them) until the registry serves their schema.");
  const cached = d.gauge("schemas_cached", "Compiled schemas in memory.");
  return {
    schemaFetched: (outcome) => { fetches.inc({ outcome }); },
    setRecordsAwaitingSchema: (count) => { awaiting.set(count); },
    setSchemasCached: (count) => { cached.set(count); },
  };
}

export function createMetrics(options: MetricsOptions = {}): TransferMetrics {
  const registry = new Registry();
  const d = declarer(registry, options.now ?? Date.now);
  // The event-loop delay monitor samples every 100 ms instead of prom-client's 10: at
  // 10 ms its timer alone cost an idle worker about 0.005 cores (a tenth of its idle
  // CPU, measured), and 10 samples a second still show a stalled loop.
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });

  const errors = d.counter("errors_total", "Errors by kind.", ["kind"]);
  const kinds = new BoundedLabel(MAX_FREE_LABEL_VALUES);
  const buildInfo = new Gauge<"version" | "node">({
    name: METRIC_PREFIX + "build_info",
    help: "Always 1; labels carry the service and Node.js versions.",
    labelNames: ["version", "node"],
    registers: d.registers,
  });
  buildInfo.set({ version: options.version ?? "unknown", node: process.version }, 1);
  const scrapeHooks: (() => void)[] = [];

  return {
    registry,
    contentType: registry.contentType,
    beforeScrape(hook) {
      scrapeHooks.push(hook);
    },
    scrape() {
      for (const hook of scrapeHooks) {
        // A broken hook must not take every other metric down with it.
        try {
          hook();
        } catch {
          errors.inc({ kind: "metrics_hook" });
        }
      }
      return registry.metrics();
    },
    metricNames: () => registry.getMetricsAsArray().map((metric) => metric.name),
    ...partitionMetrics(d),
    ...groupMetrics(d),
    ...outcomeMetrics(d),
    ...bulkMetrics(d),
    ...schemaMetrics(d),
    ...holdMetrics(d),
    errorOccurred(kind) {
      errors.inc({ kind: kinds.value(kind) });
    },
  };
}
