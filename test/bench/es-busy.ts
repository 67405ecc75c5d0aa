/**
 * How busy Elasticsearch was while the worker drained the backlog, and, in the seconds
 * it was not, what the worker was doing instead: requests in flight against the
 * adaptive limit, records queued, partitions paused. Pure: it reads the one-second
 * samples of the worker run (test/bench/worker-run.ts); `make bench` renders it as a
 * table and a timeline chart (pipeline.png).
 */
import type { Sample } from "./worker-run.ts";

/** A second in which Elasticsearch used less than this share of its cores counts as idle. */
export const IDLE_BELOW_SHARE = 0.8;

export type Waiting = "requests" | "queue" | "source" | "paused" | "limit";

/** What the worker was waiting on in one second of Elasticsearch idleness. */
export function waitingOn(s: Sample, queueLow: number): Waiting {
  const inFlight = s.inFlight ?? 0;
  const limit = s.limit ?? Number.POSITIVE_INFINITY;
  if ((s.paused ?? 0) > 0 && (s.queue ?? 0) < queueLow) return "paused";
  if (inFlight >= limit) return "limit";
  if ((s.queue ?? 0) < queueLow) return "source";
  if (inFlight === 0) return "queue";
  return "requests";
}

export const WAITING_MEANS: Readonly<Record<Waiting, string>> = {
  limit: "every request the adaptive limit allowed was in flight: the limit, or responses the worker had not yet settled",
  requests: "records were queued and requests were in flight below the limit: batches were not cut or sent (linger, batch cutting)",
  queue: "records were queued and nothing was in flight: the dispatcher had not started a request",
  source: "the queue was almost empty: the worker was waiting on Kafka (fetches, or a refill after the low watermark)",
  paused: "partitions were paused and the queue was almost empty: back-pressure that outlived the work in hand",
};

export interface EsBusy {
  /** Seconds sampled with an Elasticsearch CPU figure. */
  readonly seconds: number;
  /** Mean cores Elasticsearch used per sampled second, and that as a share of the cores it had. */
  readonly meanCores: number;
  readonly busyShare: number;
  readonly idleSeconds: number;
  /** Idle seconds by what the worker was waiting on. */
  readonly waiting: Readonly<Record<Waiting, number>>;
  /** Means over the idle seconds (undefined when none). */
  readonly idleMeans: { readonly inFlight: number; readonly limit: number; readonly queue: number; readonly paused: number } | undefined;
}

const mean = (values: readonly number[]): number => (values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length);

/**
 * `esCores`: the cores Elasticsearch may use (pinned: its own; shared: all of them, which
 * makes the share a lower bound). `queueLow`: below this many queued records the queue
 * counts as empty (the worker's low watermark is a fair choice).
 */
export function esBusy(samples: readonly Sample[], esCores: number, queueLow: number): EsBusy | undefined {
  // The first sample covers the time before the assignment; the last may hold the tail after N.
  const measured = samples.slice(1).filter((s) => s.esCores !== undefined);
  if (measured.length === 0) return undefined;
  const idle = measured.filter((s) => (s.esCores ?? 0) < IDLE_BELOW_SHARE * esCores);
  const waiting: Record<Waiting, number> = { limit: 0, requests: 0, queue: 0, source: 0, paused: 0 };
  for (const s of idle) waiting[waitingOn(s, queueLow)] += 1;
  const meanCores = mean(measured.map((s) => s.esCores ?? 0));
  return {
    seconds: measured.length,
    meanCores,
    busyShare: meanCores / esCores,
    idleSeconds: idle.length,
    waiting,
    idleMeans: idle.length === 0 ? undefined : {
      inFlight: mean(idle.map((s) => s.inFlight ?? 0)),
      limit: mean(idle.map((s) => s.limit ?? 0)),
      queue: mean(idle.map((s) => s.queue ?? 0)),
      paused: mean(idle.map((s) => s.paused ?? 0)),
    },
  };
}

/** "12 of 60 s idle: source 8, limit 4" */
export function waitingSummary(busy: EsBusy | undefined): string {
  if (busy === undefined) return "not measured";
  const parts = (Object.entries(busy.waiting) as [Waiting, number][]).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
  const head = `${(busy.busyShare * 100).toFixed(0)} % busy (${busy.meanCores.toFixed(2)} cores); ${String(busy.idleSeconds)} of ${String(busy.seconds)} s idle`;
  return parts.length === 0 ? head : `${head}: waiting on ${parts.map(([w, n]) => `${w} ${String(n)} s`).join(", ")}`;
}

/** The explanation lines of the report, one per kind of wait that occurred. */
export function waitingLegend(all: readonly (EsBusy | undefined)[]): string[] {
  const seen = new Set<Waiting>();
  for (const b of all) for (const [w, n] of Object.entries(b?.waiting ?? {}) as [Waiting, number][]) if (n > 0) seen.add(w);
  return [...seen].map((w) => `- **${w}**: ${WAITING_MEANS[w]}`);
}
