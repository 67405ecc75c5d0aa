/**
 * Decides which Kafka offsets are safe to commit: a record's offset may be committed
 * only once it and every record before it (that this member fetched) was settled.
 *
 * Pure data structure, no Kafka client: the reader tells it about assignments and
 * fetched batches, workers settle records through the handles it returns, and a
 * timer asks it what to commit. See design.md "Proposed: the commit algorithm".
 *
 * Per (topic, partition) a tracker holds `lastCommitted`, the `safe` point (highest
 * offset + 1 below which everything tracked was settled) and a FIFO of segments, one
 * per fetched batch. Offsets are decimal strings at the API and bigints inside: Kafka
 * offsets are int64 and exceed 2^53.
 */
import type { Ack, TopicPartition } from "../../pipeline/record.ts";
import { partitionKey } from "../../pipeline/record.ts";

/** One offset to commit, in the shape `consumer.commitOffsets()` accepts. */
export interface CommitRequest {
  readonly topic: string;
  readonly partition: number;
  /** The next offset to consume (last settled + 1), as Kafka expects. */
  readonly offset: string;
  /**
   * Which ownership of the partition this was computed under. A commit that finishes
   * after the partition was revoked and assigned again must not touch the new tracker.
   */
  readonly ownership: number;
}

/** Settles the records of one fetched batch. */
export interface SegmentHandle {
  /** Settles one record of the batch. Calls beyond the batch's count are ignored. */
  ack(): void;
  /** An ack for one record that settles at most once, however often it is called. */
  recordAck(): Ack;
  /** Records of this batch not settled yet (0 once discarded). */
  readonly pending: number;
  /** False once the batch was discarded (partition revoked or fetch position reset). */
  readonly live: boolean;
}

export interface PartitionSnapshot {
  readonly topic: string;
  readonly partition: number;
  readonly lastCommitted?: string;
  /** Next offset to consume once everything before it is settled (what would be committed). */
  readonly safe?: string;
  /** Fetched records not yet settled. */
  readonly pending: number;
  /** Batches still waiting for acks. */
  readonly segments: number;
}

class Segment implements SegmentHandle {
  readonly start: bigint;
  readonly end: bigint;
  #pending: number;
  #live = true;
  readonly #tracker: Tracker;

  constructor(tracker: Tracker, start: bigint, end: bigint, count: number) {
    this.#tracker = tracker;
    this.start = start;
    this.end = end;
    this.#pending = count;
  }

  get pending(): number {
    return this.#pending;
  }

  get live(): boolean {
    return this.#live;
  }

  get complete(): boolean {
    return this.#pending === 0;
  }

  ack(): void {
    // A discarded segment belongs to a revoked partition or a superseded fetch: its
    // acks must never move the current tracker.
    if (!this.#live || this.#pending === 0) return;
    this.#pending -= 1;
    this.#tracker.onSettled(this);
  }

  recordAck(): Ack {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.ack();
    };
  }

  /** Detaches the segment; returns how many records it still had pending. */
  discard(): number {
    const left = this.#pending;
    this.#live = false;
    this.#pending = 0;
    return left;
  }
}

/** State of one partition for one continuous ownership of it. */
class Tracker {
  readonly topic: string;
  readonly partition: number;
  readonly ownership: number;
  lastCommitted: bigint | undefined;
  safe: bigint | undefined;
  /** Records pending across all live segments. */
  pending = 0;
  /** End offset of the most recently tracked batch (even if already shifted out). */
  #lastEnd: bigint | undefined;
  /**
   * Where the next fetch should start: the seeded broker position, then the end of each
   * tracked batch + 1. A fetch that starts above it skipped records (see `track`).
   */
  position: bigint | undefined;
  // Segments in fetch order. Only as many as batches in flight (tens to hundreds), so
  // Array#shift is cheap here.
  readonly #segments: Segment[] = [];

  constructor(topic: string, partition: number, ownership: number) {
    this.topic = topic;
    this.partition = partition;
    this.ownership = ownership;
  }

  get segmentCount(): number {
    return this.#segments.length;
  }

  get hasSegments(): boolean {
    return this.#segments.length > 0;
  }

  track(start: bigint, end: bigint, count: number): Segment {
    if (this.#lastEnd !== undefined && start <= this.#lastEnd) this.#rewind(start);
    this.position = end + 1n;
    const segment = new Segment(this, start, end, count);
    this.#segments.push(segment);
    this.pending += count;
    this.#lastEnd = end;
    this.#advance();
    return segment;
  }

  onSettled(segment: Segment): void {
    this.pending -= 1;
    if (segment.complete) this.#advance();
  }

  /** Discards every segment; used when the partition is revoked. */
  discardAll(): void {
    for (const segment of this.#segments) segment.discard();
    this.#segments.length = 0;
    this.pending = 0;
  }

  /**
   * Reading starts over at the safe point: every segment is dropped (acks of its
   * records become no-ops) and the next fetch is expected there. Returns the safe point.
   */
  restart(): bigint | undefined {
    this.discardAll();
    this.#lastEnd = undefined;
    if (this.safe !== undefined) this.position = this.safe;
    return this.safe;
  }

  /**
   * The fetch position went back to `start` (kafkajs resets it to the committed offset
   * after a rebalance; two fetchers may also race over a partition whose leader moved).
   * Segments starting at or after `start` are fetched again, so they are dropped. Those
   * starting before are kept: their records below `start` will not come back, and the
   * safe point must not pass them before they are settled. `safe` and `lastCommitted`
   * are kept because what they cover really was settled.
   */
  #rewind(start: bigint): void {
    const kept: Segment[] = [];
    for (const segment of this.#segments) {
      if (segment.start < start) kept.push(segment);
      else this.pending -= segment.discard();
    }
    this.#segments.splice(0, this.#segments.length, ...kept);
  }

  /** Shifts completed head segments; the safe point only ever moves forward. */
  #advance(): void {
    let head = this.#segments[0];
    while (head?.complete === true) {
      const next = head.end + 1n;
      if (this.safe === undefined || next > this.safe) this.safe = next;
      this.#segments.shift();
      head = this.#segments[0];
    }
  }
}

/** Records a fetch skipped: offsets `from` (inclusive) to `to` (exclusive) were never read. */
export interface SkippedRange {
  readonly topic: string;
  readonly partition: number;
  readonly from: string;
  readonly to: string;
  readonly count: number;
}

function parseOffset(value: string, what: string): bigint {
  // BigInt("") is 0n and BigInt(" 7 ") is 7n: insist on a plain decimal.
  if (!/^-?\d+$/.test(value)) throw new RangeError(`${what} is not a decimal offset: "${value}"`);
  return BigInt(value);
}

export class Checkpointer {
  #epoch = 0;
  #ownerships = 0;
  readonly #trackers = new Map<string, Tracker>();
  #onSkipped: ((range: SkippedRange) => void) | undefined;

  /**
   * Called when a fetch started above this member's position for the partition: the
   * records in between were never read (retention deleted them and kafkajs reset the
   * position). One listener; a second call replaces the first.
   */
  onSkipped(listener: (range: SkippedRange) => void): void {
    this.#onSkipped = listener;
  }

  /** Bumped on every assignment; lets callers recognise work from an older generation. */
  get epoch(): number {
    return this.#epoch;
  }

  /**
   * Applies the full assignment received on a group join. Kept partitions keep their
   * tracker (kafkajs refetches their uncommitted records; `track` handles that), new
   * ones get a fresh tracker, revoked ones are dropped and their pending acks become
   * no-ops. Returns the revoked partitions.
   */
  assign(assignment: readonly TopicPartition[]): TopicPartition[] {
    this.#epoch += 1;
    const next = new Map<string, TopicPartition>();
    for (const tp of assignment) next.set(partitionKey(tp.topic, tp.partition), tp);

    const revoked: TopicPartition[] = [];
    for (const [key, tracker] of this.#trackers) {
      if (next.has(key)) continue;
      tracker.discardAll();
      this.#trackers.delete(key);
      revoked.push({ topic: tracker.topic, partition: tracker.partition });
    }
    for (const [key, tp] of next) {
      if (this.#trackers.has(key)) continue;
      this.#ownerships += 1;
      this.#trackers.set(key, new Tracker(tp.topic, tp.partition, this.#ownerships));
    }
    return revoked;
  }

  isAssigned(topic: string, partition: number): boolean {
    return this.#trackers.has(partitionKey(topic, partition));
  }

  /**
   * Records where the broker will make this member fetch from next: the group's
   * committed offset, or where a group that never committed starts, or the log start
   * when retention deleted the committed position. Called on every assignment.
   *
   * It becomes the reference for skip detection. With nothing in flight it is also
   * safe to commit (nothing below it is pending here, and the group resumes there
   * anyway), so a group that never committed gets its start point committed, and its
   * lag is measured from where it really started.
   */
  seedPosition(topic: string, partition: number, offset: string): void {
    const tracker = this.#trackers.get(partitionKey(topic, partition));
    if (tracker === undefined) return;
    const value = parseOffset(offset, "position");
    if (value < 0n) throw new RangeError(`position must not be negative: "${offset}"`);
    tracker.position = value;
    if (!tracker.hasSegments && (tracker.safe === undefined || tracker.safe < value)) tracker.safe = value;
  }

  /**
   * Starts reading the partition over from its first unsettled offset (a held partition
   * resumes): what was fetched past it is forgotten and fetched again. Returns the
   * offset to seek to, undefined when unknown (not assigned, or not seeded yet).
   */
  restart(topic: string, partition: number): string | undefined {
    return this.#trackers.get(partitionKey(topic, partition))?.restart()?.toString();
  }

  /** Where this member expects to fetch the partition from next, when known. */
  positionOf(topic: string, partition: number): string | undefined {
    return this.#trackers.get(partitionKey(topic, partition))?.position?.toString();
  }

  /**
   * The offset that would be committed now (everything below it settled or seeded), if
   * any: for a partition the group never committed, where this member started it.
   */
  safeOffset(topic: string, partition: number): string | undefined {
    return this.#trackers.get(partitionKey(topic, partition))?.safe?.toString();
  }

  /** Records the offset the group last committed (read from the broker), if known. */
  seedCommitted(topic: string, partition: number, offset: string): void {
    const tracker = this.#trackers.get(partitionKey(topic, partition));
    if (tracker === undefined) return;
    const value = parseOffset(offset, "committed offset");
    if (tracker.lastCommitted === undefined || value > tracker.lastCommitted) {
      tracker.lastCommitted = value;
    }
  }

  /**
   * Registers a fetched batch of `count` records spanning `firstOffset`..`lastOffset`
   * (offsets need not be contiguous). `firstOffset` should be where the fetch started
   * (kafkajs `batch.fetchedOffset`, or the first record's offset); a batch that starts
   * at or below the previous batch's end means the fetch position was reset. `count`
   * may be 0 (only control or filtered records): the segment is complete at once, so
   * the offsets it spans become committable.
   * With `checkSkip`, `firstOffset` must be the offset the fetch asked for: a fetch that
   * starts above the tracked position means records were skipped, and `onSkipped` says
   * which (a compacted topic's holes are inside batches, never before the fetch offset).
   * Returns undefined when the partition is not assigned: the caller drops the batch.
   */
  track(
    topic: string,
    partition: number,
    firstOffset: string,
    lastOffset: string,
    count: number,
    checkSkip = false,
  ): SegmentHandle | undefined {
    if (!Number.isSafeInteger(count) || count < 0) {
      throw new RangeError(`record count must be a non-negative integer, got ${String(count)}`);
    }
    const start = parseOffset(firstOffset, "firstOffset");
    const end = parseOffset(lastOffset, "lastOffset");
    if (end < start) throw new RangeError(`lastOffset ${lastOffset} is below firstOffset ${firstOffset}`);
    const tracker = this.#trackers.get(partitionKey(topic, partition));
    if (tracker === undefined) return undefined;
    const expected = tracker.position;
    if (checkSkip && expected !== undefined && start > expected) {
      this.#onSkipped?.({
        topic,
        partition,
        from: expected.toString(),
        to: start.toString(),
        count: Number(start - expected),
      });
    }
    return tracker.track(start, end, count);
  }

  /**
   * Offsets safe to commit now: per assigned partition, the safe point when it is above
   * the last committed offset. Does not mark them committed (see `markCommitted`).
   */
  committable(): CommitRequest[] {
    const requests: CommitRequest[] = [];
    for (const tracker of this.#trackers.values()) {
      const { safe, lastCommitted } = tracker;
      if (safe === undefined) continue;
      if (lastCommitted !== undefined && safe <= lastCommitted) continue;
      requests.push({
        topic: tracker.topic,
        partition: tracker.partition,
        offset: safe.toString(),
        ownership: tracker.ownership,
      });
    }
    return requests;
  }

  /**
   * Call after a commit succeeded. Requests for partitions no longer owned (revoked, or
   * revoked and assigned again since) are ignored; `lastCommitted` never goes back.
   */
  markCommitted(requests: readonly CommitRequest[]): void {
    for (const request of requests) {
      const tracker = this.#trackers.get(partitionKey(request.topic, request.partition));
      if (tracker?.ownership !== request.ownership) continue;
      const value = parseOffset(request.offset, "committed offset");
      if (tracker.lastCommitted === undefined || value > tracker.lastCommitted) {
        tracker.lastCommitted = value;
      }
    }
  }

  /** Records fetched but not yet settled: of one partition, of one topic, or in total. */
  pendingCount(topic?: string, partition?: number): number {
    if (topic !== undefined && partition !== undefined) {
      return this.#trackers.get(partitionKey(topic, partition))?.pending ?? 0;
    }
    let total = 0;
    for (const tracker of this.#trackers.values()) {
      if (topic === undefined || tracker.topic === topic) total += tracker.pending;
    }
    return total;
  }

  /** Per assigned partition state, for metrics and logs. */
  snapshot(): PartitionSnapshot[] {
    return [...this.#trackers.values()].map((tracker) => ({
      topic: tracker.topic,
      partition: tracker.partition,
      ...(tracker.lastCommitted === undefined ? {} : { lastCommitted: tracker.lastCommitted.toString() }),
      ...(tracker.safe === undefined ? {} : { safe: tracker.safe.toString() }),
      pending: tracker.pending,
      segments: tracker.segmentCount,
    }));
  }
}
