/**
 * The backlogs of the memory scenarios (issue 17), on one broker (test/faults) and on the
 * three-broker cluster (test/cluster): small JSON lines written fast with kcat, and
 * binary values that are not UTF-8.
 */
import { kcatProduce } from "./kafka-tools.ts";

/** A JSON line of exactly `bytes` bytes that names its partition and index. */
export function backlogLine(partition: number, i: number, bytes: number): string {
  const head = `{"p":${String(partition)},"i":${String(i)},"msg":"`;
  return `${head}${"m".repeat(bytes - head.length - 2)}"}`;
}

function* partitionLines(partition: number, count: number, bytes: number): Generator<string> {
  for (let i = 0; i < count; i++) yield backlogLine(partition, i, bytes);
}

/**
 * `total` lines of `bytes` bytes spread evenly over `partitions` (the first ones take the
 * remainder), one kcat per partition at once: librdkafka batches, a few seconds per
 * 100,000 records.
 */
export async function produceLineBacklog(topic: string, partitions: number, total: number, bytes: number): Promise<void> {
  const base = Math.floor(total / partitions);
  await Promise.all(Array.from({ length: partitions }, (_, p) =>
    kcatProduce(["-t", topic, "-p", String(p), "-X", "linger.ms=50", "-X", "batch.size=1000000"], partitionLines(p, base + (p < total % partitions ? 1 : 0), bytes))));
}

/** 16 KiB of text with one byte that is not UTF-8 in it: a binary value to the decoder. */
export function binaryValue(i: number, bytes = 16 * 1024): Buffer {
  const value = Buffer.alloc(bytes, 0x61 + (i % 26));
  value.write(String(i), 0, "latin1");
  value[bytes - 1] = 0xff;
  return value;
}
