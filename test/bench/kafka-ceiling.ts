/**
 * The Kafka ceiling: the same topic read by the same client (kafkajs) with the worker's
 * fetch settings, from a fresh consumer group, records counted and dropped. What is
 * left is what the broker and kafkajs' decoding can deliver to one process.
 */
import { Kafka, logLevel } from "kafkajs";
import { registerCompressionCodecs } from "../../src/source/client/compression.ts";
import { CpuMeter, type CpuShares } from "./proc.ts";
import { fmt, progress } from "./progress.ts";

export interface ConsumerShape {
  readonly partitionsConsumedConcurrently: number;
  readonly maxBytesPerPartition: number;
  readonly maxBytes: number;
  readonly maxWaitTimeMs: number;
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly rebalanceTimeoutMs: number;
}

export interface KafkaCeilingResult {
  readonly records: number;
  readonly valueBytes: number;
  /** From the group join (partitions assigned) to the last record. */
  readonly seconds: number;
  readonly recordsPerSecond: number;
  /** CPU seconds of the bench process (the consumer) from the join to the last record. */
  readonly cpuSeconds: number;
  readonly cpu: CpuShares | undefined;
}

export async function kafkaCeiling(options: {
  brokers: readonly string[];
  topic: string;
  groupId: string;
  count: number;
  label: string;
  shape: ConsumerShape;
  timeoutMs: number;
  pids: Record<string, number>;
}): Promise<KafkaCeilingResult> {
  // Compressed variants: the same codecs as the worker's.
  registerCompressionCodecs();
  const kafka = new Kafka({ clientId: "kes-bench-kafka-ceiling", brokers: [...options.brokers], logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({
    groupId: options.groupId,
    sessionTimeout: options.shape.sessionTimeoutMs,
    heartbeatInterval: options.shape.heartbeatIntervalMs,
    rebalanceTimeout: options.shape.rebalanceTimeoutMs,
    maxBytesPerPartition: options.shape.maxBytesPerPartition,
    maxBytes: options.shape.maxBytes,
    maxWaitTimeInMs: options.shape.maxWaitTimeMs,
  });
  let joinedAt: number | undefined;
  let cpuAtJoin = process.cpuUsage();
  let meter: CpuMeter | undefined;
  consumer.on(consumer.events.GROUP_JOIN, () => {
    joinedAt ??= performance.now();
    cpuAtJoin = process.cpuUsage();
    meter ??= new CpuMeter(options.pids);
  });
  let records = 0;
  let valueBytes = 0;
  let resolveDone: (at: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => { resolveDone = resolve; });
  const ticker = setInterval(() => {
    if (joinedAt === undefined) return;
    const seconds = (performance.now() - joinedAt) / 1000;
    progress.update(`${options.label} ${fmt(records)}/${fmt(options.count)} consumed  ${fmt(records / seconds)} rec/s`);
  }, 1_000);

  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [options.topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: options.shape.partitionsConsumedConcurrently,
      eachBatch: ({ batch }) => {
        // Touch every value, as the worker must, so nothing is skipped lazily.
        for (const message of batch.messages) valueBytes += message.value?.length ?? 0;
        records += batch.messages.length;
        if (records >= options.count) resolveDone(performance.now());
        return Promise.resolve();
      },
    });
    const timeout = new Promise<never>((_, reject) => {
      setTimeout(() => { reject(new Error(`${options.label} timed out after ${String(options.timeoutMs)} ms at ${fmt(records)} records`)); }, options.timeoutMs).unref();
    });
    const finishedAt = await Promise.race([done, timeout]);
    const own = process.cpuUsage(cpuAtJoin);
    const shares = meter?.read();
    const seconds = (finishedAt - (joinedAt ?? finishedAt)) / 1000;
    return { records, valueBytes, seconds, recordsPerSecond: records / seconds, cpuSeconds: (own.user + own.system) / 1e6, cpu: shares };
  } finally {
    clearInterval(ticker);
    await consumer.disconnect();
  }
}
