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

/**
 * Offsets of the range retention deleted before they were read: `below` is the
 * partition's log start. `from` is the first offset lost when it is known (a resumed
 * run's `next`); undefined for a fresh plan whose range starts before the oldest record
 * kept, where the deleted records' timestamps are gone with them.
 */
export interface RetentionLoss extends TopicPartition {
  readonly from: string | undefined;
  readonly below: string;
}

/**
 * What retention took from the plans, given each partition's log start (`lows`):
 * a partition whose next offset lies below it lost [next, low); a fresh plan (`fresh`)
 * that starts exactly at a log start above 0 and holds records begins at the oldest
 * record kept, so records of the range before it may have been deleted. A partition
 * whose range is empty is not reported (nothing tells whether the range had records).
 */
export function retentionLosses(plans: readonly PartitionPlan[], lows: readonly PartitionOffsets[], fresh: boolean): RetentionLoss[] {
  const lowOf = new Map(lows.map((l) => [key(l), BigInt(l.offset)]));
  const losses: RetentionLoss[] = [];
  for (const plan of plans) {
    const low = lowOf.get(key(plan));
    if (low === undefined || low === 0n) continue;
    const next = BigInt(plan.next);
    const end = BigInt(plan.end);
    if (next < low && next < end) losses.push({ topic: plan.topic, partition: plan.partition, from: plan.next, below: min(low, end).toString() });
    // Records of the range kept from the oldest one on: the range reaches back past it.
    else if (fresh && next === low && end > low) losses.push({ topic: plan.topic, partition: plan.partition, from: undefined, below: low.toString() });
  }
  return losses;
}

/** "logs[0]: offsets 120-199 (80)", "logs[1]: offsets below 500 (the range starts before the oldest record kept)". */
export function lossLines(losses: readonly RetentionLoss[]): string[] {
  return losses.map((l) => {
    const where = `${l.topic}[${String(l.partition)}]`;
    if (l.from === undefined) return `${where}: offsets below ${l.below} (the range starts before the oldest record kept)`;
    const count = BigInt(l.below) - BigInt(l.from);
    return `${where}: offsets ${l.from}-${(BigInt(l.below) - 1n).toString()} (${count.toString()})`;
  });
}
