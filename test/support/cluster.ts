/**
 * The three-broker cluster of test/infra/cluster.sh: its faults (stop, kill, freeze a
 * node), who leads what, topics with a chosen replication, and a producer that rides
 * through leader changes.
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { CompressionTypes, type Producer } from "kafkajs";
import { ROOT, sleep, waitFor } from "./env.ts";
import { testKafka, withAdmin, type ProducedRecord } from "./kafka.ts";

const run = promisify(execFile);
const SCRIPT = path.join(ROOT, "test/infra/cluster.sh");
export const NODES = [1, 2, 3] as const;

async function cluster(...args: string[]): Promise<string> {
  const { stdout } = await run("bash", [SCRIPT, ...args], { timeout: 180_000 });
  return stdout.trim();
}

/** Stops node `n` (SIGTERM: a clean shutdown that moves its leaderships first), keeping its data. */
export const stopBroker = async (n: number): Promise<void> => {
  await cluster("broker-stop", String(n));
};
/** Starts node `n` again and waits until it serves. */
export const startBroker = async (n: number): Promise<void> => {
  await cluster("broker-start", String(n));
};
export const killBroker = async (n: number): Promise<void> => {
  await cluster("broker-kill", String(n));
};
export const freezeBroker = async (n: number): Promise<void> => {
  await cluster("broker-freeze", String(n));
};
export const thawBroker = async (n: number): Promise<void> => {
  await cluster("broker-thaw", String(n));
};
/** The node id of the active controller. */
export async function controllerLeader(): Promise<number> {
  return Number(await cluster("controller-leader"));
}

/** Makes sure every node runs (after a scenario that failed half way). */
export async function startAllBrokers(): Promise<void> {
  for (const n of NODES) {
    if ((await cluster("broker-pid", String(n))) === "") await startBroker(n);
    else await thawBroker(n);
  }
}

/**
 * Creates topics of `partitions` partitions with `replicationFactor` replicas, or, with
 * `onlyNode`, one replica each on that node.
 */
export async function createClusterTopics(topics: readonly string[], partitions: number, options: { replicationFactor?: number; onlyNode?: number } = {}): Promise<void> {
  await withAdmin(async (admin) => {
    await admin.createTopics({
      waitForLeaders: false,
      topics: topics.map((topic) => options.onlyNode === undefined
        ? { topic, numPartitions: partitions, replicationFactor: options.replicationFactor ?? 3 }
        : { topic, replicaAssignment: Array.from({ length: partitions }, (_, partition) => ({ partition, replicas: [options.onlyNode ?? 1] })) }),
    });
  });
  // kafkajs' waitForLeaders fails on the UNKNOWN_TOPIC_OR_PARTITION a broker answers
  // until the new topic's metadata reached it
  for (const topic of topics) {
    await waitFor(`leaders of ${topic}`, async () => {
      const leaders = await leadersOf(topic).catch(() => new Map<number, number>());
      return leaders.size === partitions && [...leaders.values()].every((l) => l >= 0) ? true : undefined;
    }, 30_000, 200);
  }
}

/** Leader node per partition of `topic` (-1: none). */
export async function leadersOf(topic: string): Promise<Map<number, number>> {
  return withAdmin(async (admin) => {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    return new Map((topics[0]?.partitions ?? []).map((p) => [p.partitionId, p.leader]));
  });
}

/** The node leading most partitions of `topic`. */
export async function busiestLeader(topic: string): Promise<number> {
  const counts = new Map<number, number>();
  for (const leader of (await leadersOf(topic)).values()) counts.set(leader, (counts.get(leader) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 1;
}

/**
 * Not idempotent: a chunk that failed is sent again by a new producer, which may write
 * a record twice; the checks tolerate that (they count distinct `seq` values).
 */
function clusterProducer(): Producer {
  return testKafka("cluster-tests-producer").producer({
    allowAutoTopicCreation: false,
    idempotent: false,
    maxInFlightRequests: 1,
    retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 5_000 },
  });
}

/**
 * Produces records `from`..`from+count-1` (round-robin over `partitions`) with acks from
 * all in-sync replicas. A chunk that fails while leaders move is sent again by a new
 * producer: the copy in Kafka is harmless, the checks count distinct `seq` values.
 */
export async function produceThroughFaults(topic: string, from: number, count: number, make: (i: number) => ProducedRecord, partitions: number, chunk = 500): Promise<void> {
  let producer = clusterProducer();
  await producer.connect();
  try {
    for (let start = from; start < from + count; start += chunk) {
      const end = Math.min(from + count, start + chunk);
      const perPartition = Array.from({ length: partitions }, () => [] as { value: string | Buffer | null; partition: number }[]);
      for (let i = start; i < end; i++) perPartition[i % partitions]?.push({ value: make(i).value, partition: i % partitions });
      for (let attempt = 1; ; attempt++) {
        try {
          // One send per partition: kafkajs 2.2.4 retries a send only to the brokers that
          // did not answer yet, so a partition whose leader moved to a broker that had
          // answered is dropped without an error (sendMessages' responsePerBroker).
          for (const messages of perPartition) if (messages.length > 0) await producer.send({ topic, messages, acks: -1, compression: CompressionTypes.None });
          break;
        } catch (error) {
          if (attempt >= 10) throw error;
          await producer.disconnect().catch(() => undefined);
          await sleep(1_000);
          producer = clusterProducer();
          await producer.connect().catch(() => undefined);
        }
      }
    }
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
}

/** Waits until every partition of `topics` has all its replicas in sync (a restarted node caught up). */
export async function waitForFullIsr(topics: readonly string[], timeoutMs = 60_000): Promise<void> {
  await withAdmin(async (admin) => {
    await waitFor(`full ISR of ${topics.join(", ")}`, async () => {
      const { topics: meta } = await admin.fetchTopicMetadata({ topics: [...topics] }).catch(() => ({ topics: [] }));
      const complete = meta.length === topics.length && meta.every((t) => t.partitions.every((p) => p.leader >= 0 && p.isr.length === p.replicas.length));
      return complete ? true : undefined;
    }, timeoutMs, 500);
  });
}
