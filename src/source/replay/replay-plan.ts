/**
 * The range plan: per partition, the offsets [start, end) that hold the time range,
 * and `next`, the first offset not yet settled in Elasticsearch. Pure arithmetic on
 * decimal-string offsets (Kafka offsets are int64: bigints inside).
 *
 * `start` is the first offset whose timestamp is at or after `from`, `end` the first
 * at or after `to` (the broker's ListOffsets by time; the high watermark when there is
 * none). Within [start, end) each record's own timestamp is checked again, so a record
 * produced with an out-of-order timestamp outside the range is never written.
 */
import type { TopicPartition } from "../../pipeline/record.ts";

/** A time range in record time, ms since the epoch: [from, to). */
export interface TimeRange {
  readonly from: number;
  readonly to: number;
}

/** Whether a record timestamp falls in [from, to). */
export function inRange(range: TimeRange, timestamp: number): boolean {
  return timestamp >= range.from && timestamp < range.to;
}

export interface PartitionPlan extends TopicPartition {
  readonly start: string;
  readonly end: string;
  /** First offset not yet settled; `start` at first, `end` when done. */
  readonly next: string;
}

export interface PartitionOffsets extends TopicPartition {
  readonly offset: string;
}

function key(tp: TopicPartition): string {
  return `${tp.topic}\u0000${String(tp.partition)}`;
}

function max(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

/**
 * One plan per partition of `starts`; a partition missing from `ends` (or whose end
 * lies before its start) has an empty range. Sorted by topic, then partition.
 */
export function planRange(starts: readonly PartitionOffsets[], ends: readonly PartitionOffsets[]): PartitionPlan[] {
  const endOf = new Map(ends.map((e) => [key(e), BigInt(e.offset)]));
  return starts
    .map((s) => {
      const start = BigInt(s.offset);
      const end = max(start, endOf.get(key(s)) ?? start);
      return { topic: s.topic, partition: s.partition, start: start.toString(), end: end.toString(), next: start.toString() };
    })
    .sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
}

export function isDone(plan: PartitionPlan): boolean {
  return BigInt(plan.next) >= BigInt(plan.end);
}

/** Whether `offset` lies in what is left of the partition's range, [next, end). */
export function wanted(plan: PartitionPlan, offset: string): boolean {
  const o = BigInt(offset);
  return o >= BigInt(plan.next) && o < BigInt(plan.end);
}

/** The last offset of the range (end - 1), the point where fetching that partition stops. */
export function lastOffsetOf(plan: PartitionPlan): string {
  return (BigInt(plan.end) - 1n).toString();
}

/** Moves `next` forward to `safe` (everything below it settled), never backwards, never past `end`. */
export function advance(plan: PartitionPlan, safe: string): PartitionPlan {
  const next = min(BigInt(plan.end), max(BigInt(plan.next), BigInt(safe)));
  return next.toString() === plan.next ? plan : { ...plan, next: next.toString() };
}

/** Applies `safe` offsets (e.g. the checkpointer's) to the matching plans. */
export function advanceAll(plans: readonly PartitionPlan[], safe: readonly PartitionOffsets[]): PartitionPlan[] {
  const safeOf = new Map(safe.map((s) => [key(s), s.offset]));
  return plans.map((p) => {
    const s = safeOf.get(key(p));
    return s === undefined ? p : advance(p, s);
  });
}

/** Offsets in the whole range, and those still left: the work measure of progress and ETA. */
export function offsetTotals(plans: readonly PartitionPlan[]): { readonly total: number; readonly left: number } {
  let total = 0n;
  let left = 0n;
  for (const p of plans) {
    total += BigInt(p.end) - BigInt(p.start);
    left += BigInt(p.end) - BigInt(p.next);
  }
  return { total: Number(total), left: Number(left) };
}

/** "topic[0]@120/200" per partition not done: where an interrupted run stopped. */
export function describePositions(plans: readonly PartitionPlan[]): string {
  const open = plans.filter((p) => !isDone(p));
  if (open.length === 0) return "every partition done";
  return open.map((p) => `${p.topic}[${String(p.partition)}]@${p.next}/${p.end}`).join(" ");
}
