/**
 * The worker's own heap figures from `--trace-gc` (which the bench passes): V8 prints a
 * line per collection with the heap used before and after it. The largest "before" is
 * the peak heap used (a collection starts when the heap is at a local maximum), which a
 * one-second scrape of /metrics misses; the largest "after" a Mark-Compact is the largest
 * live heap seen; the pauses add up to the main thread's time in the collector.
 */

import { type LogLine, WORKER_NODE_FLAGS } from "./worker.ts";

export interface GcTrace {
  readonly collections: number;
  /** Largest heap used when a collection began (MiB: V8 prints MB of 2^20 bytes). */
  readonly peakHeapMiB: number;
  /** Largest heap left by a full collection (Mark-Compact): the live heap at most, as seen. */
  readonly liveAfterFullGcMiB: number | undefined;
  /** Main-thread pause time over all collections, seconds. */
  readonly pauseSeconds: number;
}

// "[pid:0x..]  1234 ms: Mark-Compact 54.4 (60.1) -> 42.4 (58.0) MB, pooled: 0 MB, 12.3 / 0.00 ms ..."
const LINE = /\d+ ms: ([A-Za-z-]+(?: \([a-z ]+\))?) (\d+(?:\.\d+)?) \(\d+(?:\.\d+)?\) -> (\d+(?:\.\d+)?) \(\d+(?:\.\d+)?\) MB,.*? (\d+(?:\.\d+)?) \/ \d+(?:\.\d+)? ms/;

/** The figures of the trace lines among `lines` (other lines are ignored); undefined without any. */
export function parseGcTrace(lines: Iterable<string>): GcTrace | undefined {
  let collections = 0;
  let peak = 0;
  let live: number | undefined;
  let pauseMs = 0;
  for (const line of lines) {
    const m = LINE.exec(line);
    if (m === null) continue;
    collections++;
    const before = Number(m[2]);
    const after = Number(m[3]);
    peak = Math.max(peak, before);
    if (m[1]?.startsWith("Mark-Compact") === true) live = Math.max(live ?? 0, after);
    pauseMs += Number(m[4]);
  }
  return collections === 0 ? undefined : { collections, peakHeapMiB: peak, liveAfterFullGcMiB: live, pauseSeconds: pauseMs / 1000 };
}

/** Node's flags for a worker whose heap is measured: the shipped ones (or KES_WORKER_NODE_FLAGS) plus --trace-gc. */
export const TRACED_NODE_FLAGS: readonly string[] = [...WORKER_NODE_FLAGS, "--trace-gc"];

/**
 * "memory model: planned heap X MiB vs measured peak heap Y MiB (ratio R)": the heap the
 * worker's start-up plan counted (its `memory model:` log line) beside the peak its
 * --trace-gc lines show. The model is an upper bound: R at or above 1, within 15 % when tight.
 */
export function modelAgainstPeak(plannedHeapMiB: number | undefined, gc: GcTrace | undefined): string {
  if (plannedHeapMiB === undefined || gc === undefined) return "memory model: n/a (no plan or no --trace-gc lines)";
  const live = gc.liveAfterFullGcMiB === undefined ? "" : `, live after a full collection at most ${gc.liveAfterFullGcMiB.toFixed(1)} MiB`;
  return `memory model: planned heap ${plannedHeapMiB.toFixed(1)} MiB vs measured peak heap ${gc.peakHeapMiB.toFixed(1)} MiB (ratio ${(plannedHeapMiB / gc.peakHeapMiB).toFixed(2)})${live}`;
}

/** The planned heap (MiB) of a worker's `memory model:` start-up log line (its heapPlannedBytes). */
export function plannedHeapOf(logs: readonly LogLine[]): number | undefined {
  const line = logs.find((l) => typeof l.msg === "string" && l.msg.startsWith("memory model:"));
  if (typeof line?.heapPlannedBytes === "number") return line.heapPlannedBytes / 2 ** 20;
  // Builds before the field: "memory model: heap: 69 of 76 MiB planned" (whole MiB).
  const figure = /^memory model: heap: (\d+(?:\.\d+)?) of/.exec(line?.msg ?? "");
  return figure === null ? undefined : Number(figure[1]);
}
