/**
 * The source side of the worker, in-process, against the real broker: the real kafkajs
 * consumer (its connections through KafkaFaults), the KafkaReader, the BoundedQueue and
 * the Checkpointer. A test sink stands in for Elasticsearch: it holds every record (as if
 * Elasticsearch were down) or takes and acknowledges them. So a fault sequence (a crash,
 * a restart, a retried commit, an expulsion) is a repeatable test.
 */
import { Writable } from "node:stream";
import { Kafka, logLevel, type RetryOptions } from "kafkajs";
import pino from "pino";
import { BoundedQueue } from "../../src/pipeline/bounded-queue.ts";
import type { QueuedRecord } from "../../src/pipeline/record.ts";
import { Checkpointer } from "../../src/source/offsets/checkpointer.ts";
import { KafkaReader, type ReaderObserver } from "../../src/source/consumer/kafka-reader.ts";
import { BROKERS, sleep } from "./env.ts";
import { KafkaFaults } from "./kafka-faults.ts";

export interface RigOptions {
  readonly groupId: string;
  readonly topics?: readonly string[];
  readonly pattern?: RegExp;
  readonly clientId?: string;
  readonly maxRecords?: number;
  readonly maxBytes?: number;
  readonly fromBeginning?: boolean;
  readonly commitIntervalMs?: number;
  readonly sessionTimeoutMs?: number;
  readonly heartbeatIntervalMs?: number;
  readonly maxBytesPerPartition?: number;
  readonly topicRefreshIntervalMs?: number;
  /** kafkajs' own retry: short by default, so that a lost broker crashes the consumer in seconds. */
  readonly retry?: RetryOptions;
  /** "hold": nothing is acknowledged (Elasticsearch down); "ack": everything is, at once. */
  readonly sink?: "hold" | "ack";
}

export interface LogEntry {
  readonly level: number;
  readonly msg: string;
  readonly [field: string]: unknown;
}

export interface Rig {
  readonly reader: KafkaReader;
  readonly queue: BoundedQueue<QueuedRecord>;
  readonly checkpointer: Checkpointer;
  readonly faults: KafkaFaults;
  readonly logs: LogEntry[];
  /** Every record the sink acknowledged, as "partition:offset". */
  readonly acked: string[];
  /** Distinct offsets acknowledged per topic, as "partition:offset". */
  ackedOf(topic: string): ReadonlySet<string>;
  /** Highest `queue.outstanding` right after any push. */
  readonly maxOutstanding: () => number;
  /** Switches the sink; "ack" also acknowledges what is waiting now. */
  setSink(mode: "hold" | "ack"): void;
  stop(): Promise<void>;
}

const silentObserver: ReaderObserver = {
  recordsConsumed: () => undefined,
  assignmentChanged: () => undefined,
  pausedChanged: () => undefined,
  committed: () => undefined,
  groupMembershipChanged: () => undefined,
  recordsLost: () => undefined,
  beat: () => undefined,
};

function captureLogger(logs: LogEntry[]): pino.Logger {
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n")) {
        if (line !== "") logs.push(JSON.parse(line) as LogEntry);
      }
      done();
    },
  });
  return pino({ level: "debug" }, stream);
}

function watchOutstanding(queue: BoundedQueue<QueuedRecord>): () => number {
  let max = 0;
  const push = queue.push.bind(queue);
  queue.push = (items) => {
    push(items);
    max = Math.max(max, queue.outstanding);
  };
  return () => max;
}

export async function startRig(o: RigOptions): Promise<Rig> {
  const faults = new KafkaFaults();
  const logs: LogEntry[] = [];
  const logger = captureLogger(logs);
  const kafka = new Kafka({
    clientId: o.clientId ?? "source-rig",
    brokers: BROKERS,
    logLevel: logLevel.NOTHING,
    socketFactory: faults.socketFactory,
    retry: o.retry ?? { initialRetryTime: 100, retries: 2, maxRetryTime: 500 },
  });
  const queue = new BoundedQueue<QueuedRecord>(
    { maxRecords: o.maxRecords ?? 100_000, maxBytes: o.maxBytes ?? 256 * 1024 * 1024, lowWatermarkRatio: 0.5 },
    (item) => item.record.size,
  );
  const maxOutstanding = watchOutstanding(queue);
  const checkpointer = new Checkpointer();
  const reader = new KafkaReader(
    kafka,
    queue,
    checkpointer,
    {
      groupId: o.groupId,
      selection: { topics: [...(o.topics ?? [])], pattern: o.pattern },
      fromBeginning: o.fromBeginning ?? true,
      sessionTimeoutMs: o.sessionTimeoutMs ?? 10_000,
      heartbeatIntervalMs: o.heartbeatIntervalMs ?? 500,
      rebalanceTimeoutMs: 20_000,
      partitionsConsumedConcurrently: 1,
      maxBytesPerPartition: o.maxBytesPerPartition ?? 16 * 1024,
      maxBytes: 64 * 1024,
      maxWaitTimeMs: 200,
      commitIntervalMs: o.commitIntervalMs ?? 60_000,
      topicRefreshIntervalMs: o.topicRefreshIntervalMs ?? 60_000,
      drainTimeoutMs: 2_000,
      retryInitialMs: 200,
    },
    logger,
    silentObserver,
  );
  const acked: string[] = [];
  const byTopic = new Map<string, Set<string>>();
  let mode = o.sink ?? "hold";
  const halt = new AbortController();
  const ackWaiting = (): void => {
    for (const item of queue.take(100_000, Number.POSITIVE_INFINITY)) {
      item.ack();
      queue.release(item.record.size);
      const at = `${String(item.record.partition)}:${item.record.offset}`;
      acked.push(at);
      const seen = byTopic.get(item.record.topic) ?? new Set<string>();
      byTopic.set(item.record.topic, seen.add(at));
    }
  };
  const sinkLoop = (async () => {
    while (!halt.signal.aborted) {
      if (mode === "ack") ackWaiting();
      await queue.waitForItems(50, halt.signal);
      if (mode === "hold") await sleep(50);
    }
  })();
  await reader.start();
  return {
    reader,
    queue,
    checkpointer,
    faults,
    logs,
    acked,
    ackedOf: (topic) => byTopic.get(topic) ?? new Set(),
    maxOutstanding,
    setSink(next) {
      mode = next;
      if (next === "ack") ackWaiting();
    },
    async stop() {
      faults.clear();
      halt.abort();
      await sinkLoop;
      await Promise.race([reader.stop(), sleep(30_000)]);
    },
  };
}

/** Every rig a test file started, stopped even when the test failed. */
export class Rigs {
  readonly #all: Rig[] = [];

  async start(o: RigOptions): Promise<Rig> {
    const rig = await startRig(o);
    this.#all.push(rig);
    return rig;
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.#all.splice(0).map((rig) => rig.stop().catch(() => undefined)));
  }
}
