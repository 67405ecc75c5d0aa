/**
 * The Kafka edge of a replay plan: per partition of each topic, the first offset at
 * or after a timestamp (the ListOffsets request by time; kafkajs answers the high
 * watermark when no record is that late). Read-only: no consumer group is involved.
 */
import type { Admin } from "kafkajs";
import { TransferError } from "../../errors.ts";
import type { PartitionOffsets } from "./replay-plan.ts";

export async function offsetsAtTime(admin: Admin, topics: readonly string[], timestamp: number): Promise<PartitionOffsets[]> {
  const out: PartitionOffsets[] = [];
  for (const topic of topics) {
    const offsets = await admin.fetchTopicOffsetsByTimestamp(topic, timestamp);
    for (const { partition, offset } of offsets) out.push({ topic, partition, offset });
  }
  return out;
}

/** Fails with one clear line when a topic does not exist (kafkajs would retry, then say little). */
export async function checkTopicsExist(admin: Admin, topics: readonly string[]): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((t) => !existing.has(t));
  if (missing.length > 0) {
    throw new TransferError(`no such topic: ${missing.join(", ")}`, { retriable: false });
  }
}

/** Each partition's log start (the oldest offset retention kept), per topic. */
export async function logStartOffsets(admin: Admin, topics: readonly string[]): Promise<PartitionOffsets[]> {
  const out: PartitionOffsets[] = [];
  for (const topic of topics) {
    for (const { partition, low } of await admin.fetchTopicOffsets(topic)) out.push({ topic, partition, offset: low });
  }
  return out;
}
