/**
 * What `eachBatch` does with one fetched batch: convert, track, enqueue, resolve, and
 * return at once (kafkajs has no background heartbeat: a slow callback gets the member
 * expelled). A batch it refuses is left unresolved, so kafkajs fetches it again later:
 * nothing is skipped.
 */
import type { EachBatchPayload } from "kafkajs";
import type { BoundedQueue } from "../../pipeline/bounded-queue.ts";
import { partitionKey, type QueuedRecord } from "../../pipeline/record.ts";
import type { Checkpointer } from "../offsets/checkpointer.ts";
import type { CommitChannel } from "../offsets/offset-committer.ts";
import { boundBatch, toKafkaRecord } from "./record-conversion.ts";

export interface IntakeDeps {
  readonly queue: BoundedQueue<QueuedRecord>;
  readonly checkpointer: Checkpointer;
  /** False while the queue is full, the reader stops or re-subscribes, or the partition is not seeded. */
  readonly mayEnqueue: (topic: string, partition: number) => boolean;
  /** The runner that delivered the batch is the one to commit through. */
  readonly useChannel: (channel: CommitChannel) => void;
  readonly consumed: (topic: string, count: number) => void;
  /** Per partition (`partitionKey`), where reading ends (exclusive): see ReaderOptions.stopAt. */
  readonly stopAt?: ReadonlyMap<string, bigint> | undefined;
  /** A fetched batch reached the partition's stopAt: nothing more to fetch there. */
  readonly reachedEnd?: (topic: string, partition: number) => void;
}

/** Where the fetch started: kafkajs sets `fetchedOffset` on its batches but not in its typings. */
function fetchedOffset(batch: EachBatchPayload["batch"], lastOffset: string): string {
  return (batch as { fetchedOffset?: string }).fetchedOffset ?? batch.firstOffset() ?? lastOffset;
}

export function intakeBatch(payload: EachBatchPayload, deps: IntakeDeps): void {
  if (!payload.isRunning() || payload.isStale()) return;
  deps.useChannel(payload);
  const batch = payload.batch;
  const { topic, partition } = batch;
  // Refused while saturated: the queue bound is exceeded by at most the batch that
  // crossed it, however many batches one fetch brought.
  if (!deps.mayEnqueue(topic, partition)) return;
  let messages = batch.messages;
  let lastOffset = batch.lastOffset();
  const fetched = fetchedOffset(batch, lastOffset);
  const stopAt = deps.stopAt?.get(partitionKey(topic, partition));
  if (stopAt !== undefined) {
    const bounded = boundBatch(messages, fetched, lastOffset, stopAt);
    if (bounded === undefined || BigInt(bounded.lastOffset) >= stopAt - 1n) deps.reachedEnd?.(topic, partition);
    if (bounded === undefined) return;
    ({ messages, lastOffset } = bounded);
  }
  // A fetch that starts above the tracked position means kafkajs reset it: the
  // checkpointer reports the skipped records.
  const segment = deps.checkpointer.track(topic, partition, fetched, lastOffset, messages.length, true);
  // Not ours (any more): leave the offset unresolved.
  if (!segment) return;

  const items: QueuedRecord[] = new Array<QueuedRecord>(messages.length);
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i];
    if (m === undefined) continue;
    items[i] = { record: toKafkaRecord(topic, partition, m), ack: segment.recordAck() };
  }
  deps.queue.push(items);
  payload.resolveOffset(lastOffset);
  deps.consumed(topic, messages.length);
}
