/**
 * A fetch that starts above the tracked position skipped offsets. Retention deleted
 * them when the partition's log start moved past them; otherwise they never were
 * records to deliver: a compacted topic's removed records, or transaction markers and
 * aborted records, which kafkajs steps over without handing a batch to the reader.
 * Only the part below the log start is lost (issue 17, item 6).
 */
import type { SkippedRange } from "./checkpointer.ts";

/** The part of `range` below `logStart` (lost to retention), or undefined when none is. */
export function lostBelowLogStart(range: SkippedRange, logStart: string): SkippedRange | undefined {
  const from = BigInt(range.from);
  const low = BigInt(logStart);
  if (low <= from) return undefined;
  const to = BigInt(range.to) < low ? BigInt(range.to) : low;
  return { ...range, to: to.toString(), count: Number(to - from) };
}
