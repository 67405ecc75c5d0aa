/**
 * End-to-end latency at a sustainable load: a producer paced at a fixed rate (half the
 * measured maximum) into a fresh topic while the worker runs, for a set time. The
 * figures come from the worker's own `kafka_es_transfer_record_latency_seconds`
 * histogram (Kafka timestamp -> acknowledgement), the series operators see, as the
 * difference of two scrapes so the warm-up is left out.
 */
import type { Client } from "@elastic/elasticsearch";
import { sleep } from "../support/env.ts";
import { recordValue } from "./data.ts";
import { metricValues } from "../support/worker.ts";
import { histogramDelta, parseHistogram, quantile, type Histogram, type Quantile } from "./histogram.ts";
import { openProducer, type ProducerKind } from "./produce.ts";
import { cpuSeconds, memoryUse, type CpuShares } from "./proc.ts";
import { fmt, progress } from "./progress.ts";
import { createIndex, createTopic } from "./servers.ts";
import type { Variant } from "./settings.ts";
import { MeasuredWorker, workerEnv } from "./worker-run.ts";

export const LATENCY_METRIC = "kafka_es_transfer_record_latency_seconds";
const BULK_DURATION_METRIC = "kafka_es_transfer_bulk_request_duration_seconds";
export const QUANTILES = [0.5, 0.9, 0.99, 0.999] as const;
/** prom-client's default metrics: the worker's GC pauses by kind, and the event loop's worst delay. */
const GC_METRIC = "nodejs_gc_duration_seconds";
const LOOP_LAG_MAX_METRIC = "nodejs_eventloop_lag_max_seconds";

/**
 * What could make the latency's tail (issue 18 item 3), over the measured window: the
 * bulk round-trips' own quantiles (Elasticsearch's share of a record's wait) and the
 * worker's GC pauses (a pause holds every record in flight in the worker).
 */
export interface LatencyTail {
  readonly bulkQuantiles: readonly Quantile[];
  /** GC pauses per kind (minor, major, incremental, weakcb): count, total and the largest bucket reached. */
  readonly gc: readonly { readonly kind: string; readonly count: number; readonly seconds: number; readonly maxBucket: string }[];
  /** The event loop's largest delay at the last scrape (prom-client resets it each scrape). */
  readonly loopLagMaxSeconds: number | undefined;
}

export interface LatencyResult {
  readonly targetRate: number;
  /** Records/s the producer actually wrote over the whole run. */
  readonly producedRate: number;
  readonly produced: number;
  readonly seconds: number;
  readonly warmupSeconds: number;
  /** Acknowledgements counted by the histogram after the warm-up. */
  readonly observed: number;
  readonly meanSeconds: number | undefined;
  /** Mean bulk request round-trip after the warm-up: the part of the latency spent in Elasticsearch. */
  readonly meanBulkSeconds?: number | undefined;
  readonly tail?: LatencyTail;
  readonly quantiles: readonly Quantile[];
  readonly histogram: Histogram;
  /** Worker CPU seconds per 100,000 records at this rate (measured window only). */
  readonly cpuSecondsPer100k: number;
  readonly peakRssBytes: number;
  /** Who used the cores between the warm-up and the end of production. */
  readonly cpu: CpuShares | undefined;
  readonly exitCode: number | null;
}

/** How often the pacer wakes up: small against the 1.5 s target, cheap for the bench. */
const TICK_MS = 10;

export async function latencyRun(options: {
  es: Client;
  producer: ProducerKind;
  brokers: readonly string[];
  topic: string;
  groupId: string;
  partitions: number;
  variant: Variant;
  recordBytes: number;
  rate: number;
  seconds: number;
  label: string;
  logFile: string;
  pids: Record<string, number>;
  extraEnv: Readonly<Record<string, string>>;
}): Promise<LatencyResult> {
  const { label } = options;
  await createTopic(options.topic, options.partitions);
  await createIndex(options.es, options.topic);
  const measured = new MeasuredWorker(workerEnv(options.topic, options.groupId, options.extraEnv), options.pids);
  try {
    await measured.ready();
    const producer = await openProducer(options.producer, { ...options, lingerMs: 5 });
    const warmupSeconds = Math.min(10, Math.max(2, options.seconds / 10));
    let before: Histogram | undefined;
    let bulkBefore: Histogram | undefined;
    let gcBefore = new Map<string, Histogram>();
    let cpuBefore = 0;
    let producedAtWarmup = 0;
    let produced = 0;
    let nextSample = 1;
    const started = performance.now();
    try {
      for (;;) {
        const elapsed = (performance.now() - started) / 1000;
        if (elapsed >= options.seconds) break;
        const due = Math.floor(options.rate * elapsed);
        if (due > produced) {
          const lines: (string | Buffer)[] = [];
          for (let i = produced; i < due; i++) lines.push(recordValue(options.variant, i, options.recordBytes));
          await producer.write(lines);
          produced = due;
        }
        if (before === undefined && elapsed >= warmupSeconds) {
          const scrape = await measured.scrape();
          before = parseHistogram(scrape, LATENCY_METRIC);
          bulkBefore = parseHistogram(scrape, BULK_DURATION_METRIC);
          gcBefore = gcHistograms(scrape);
          cpuBefore = cpuSeconds(measured.pid);
          producedAtWarmup = produced;
          measured.startCpuMeter();
        }
        if (elapsed >= nextSample) {
          nextSample = Math.floor(elapsed) + 1;
          const s = await measured.sample();
          progress.update(
            `${label} ${fmt(elapsed, 0)}/${fmt(options.seconds)} s  produced ${fmt(produced / elapsed)} rec/s (target ${fmt(options.rate)})  ` +
              `indexed ${fmt(s.rate)} rec/s  lag ${s.lag === undefined ? "n/a" : fmt(s.lag)}`,
          );
        }
        await sleep(TICK_MS);
      }
    } finally {
      await producer.close();
    }
    const seconds = (performance.now() - started) / 1000;
    const cpu = measured.cpuShares();
    // Let the last records through, then read the histogram once more.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const s = await measured.sample();
      if (s.indexed >= produced) break;
      if (Date.now() > deadline) throw new Error(`${label} only ${fmt(s.indexed)} of ${fmt(produced)} records indexed 60 s after the end`);
      await sleep(250);
    }
    const scrape = await measured.scrape();
    const after = parseHistogram(scrape, LATENCY_METRIC);
    const bulk = histogramDelta(parseHistogram(scrape, BULK_DURATION_METRIC), bulkBefore ?? { buckets: [], sum: 0, count: 0 });
    const cpuAfter = cpuSeconds(measured.pid);
    const peakRssBytes = memoryUse(measured.pid).peakRssBytes;
    const delta = histogramDelta(after, before ?? { buckets: [], sum: 0, count: 0 });
    const quantiles = QUANTILES.map((q) => quantile(delta, q)).filter((q) => q !== undefined);
    const tail = latencyTail(scrape, bulk, gcBefore);
    const exitCode = await measured.stop(options.logFile);
    return {
      targetRate: options.rate,
      producedRate: produced / seconds,
      produced,
      seconds,
      warmupSeconds,
      observed: delta.count,
      meanSeconds: delta.count > 0 ? delta.sum / delta.count : undefined,
      meanBulkSeconds: bulk.count > 0 ? bulk.sum / bulk.count : undefined,
      tail,
      quantiles,
      histogram: delta,
      cpuSecondsPer100k: ((cpuAfter - cpuBefore) / Math.max(1, produced - producedAtWarmup)) * 100_000,
      peakRssBytes,
      cpu,
      exitCode,
    };
  } finally {
    if (measured.worker.child.exitCode === null) measured.worker.kill("SIGKILL");
  }
}

/** The GC pause histograms of a scrape, one per kind. */
function gcHistograms(scrape: string): Map<string, Histogram> {
  const kinds = new Set(metricValues(scrape, `${GC_METRIC}_count`).map((m) => m.labels.kind ?? ""));
  const byKind = new Map<string, Histogram>();
  for (const kind of kinds) {
    const lines = scrape.split("\n").filter((l) => !l.startsWith(GC_METRIC) || l.includes(`kind="${kind}"`)).join("\n");
    byKind.set(kind, parseHistogram(lines, GC_METRIC));
  }
  return byKind;
}

export function latencyTail(scrape: string, bulk: Histogram, gcBefore: ReadonlyMap<string, Histogram>): LatencyTail {
  const gc = [...gcHistograms(scrape)].map(([kind, after]) => {
    const d = histogramDelta(after, gcBefore.get(kind) ?? { buckets: [], sum: 0, count: 0 });
    let below = 0;
    let maxBucket = "none";
    for (const b of d.buckets) {
      if (b.count > below) maxBucket = b.le === Number.POSITIVE_INFINITY ? `> ${String(below)}` : `<= ${String(b.le)} s`;
      below = b.count;
    }
    return { kind, count: d.count, seconds: d.sum, maxBucket };
  });
  return {
    bulkQuantiles: QUANTILES.map((q) => quantile(bulk, q)).filter((q) => q !== undefined),
    gc,
    loopLagMaxSeconds: metricValues(scrape, LOOP_LAG_MAX_METRIC)[0]?.value,
  };
}

/** One line for the bench's log: bulk round-trip quantiles, GC pauses, the loop's worst delay. */
export function latencyTailLine(tail: LatencyTail | undefined): string {
  if (tail === undefined) return "tail: not measured";
  const bulk = tail.bulkQuantiles.map((q) => `p${String(q.q * 100)} ${q.seconds.toFixed(3)} s`).join(", ");
  const gc = tail.gc.filter((g) => g.count > 0).map((g) => `${g.kind} ${String(g.count)} (${g.seconds.toFixed(3)} s, largest ${g.maxBucket})`).join(", ");
  const lag = tail.loopLagMaxSeconds === undefined ? "n/a" : `${tail.loopLagMaxSeconds.toFixed(3)} s`;
  return `bulk round-trips ${bulk}; GC pauses ${gc === "" ? "none" : gc}; event-loop lag max (last scrape interval) ${lag}`;
}
