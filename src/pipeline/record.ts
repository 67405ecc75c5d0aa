/**
 * The unit that travels from the Kafka reader through the queue to a bulk worker.
 * Its acknowledgement travels with it: whoever settles the record (indexed, skipped
 * or dead-lettered) calls `ack()` exactly once, and only then may its offset be
 * committed.
 */
export interface KafkaRecord {
  readonly topic: string;
  readonly partition: number;
  /** Kafka offset as a decimal string (int64 does not fit a JS number). */
  readonly offset: string;
  /** Record timestamp in milliseconds since the epoch. */
  readonly timestamp: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Readonly<Record<string, Buffer | string | undefined>>;
  /** Bytes this record holds in memory (key + value + headers, roughly). */
  readonly size: number;
}

/** Settles one record: called once when Elasticsearch acknowledged it or it was set aside. */
export type Ack = () => void;

export interface QueuedRecord {
  readonly record: KafkaRecord;
  readonly ack: Ack;
}

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

export function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${String(partition)}`;
}
