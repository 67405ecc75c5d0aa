import { AssignerProtocol, CompressionTypes, type Kafka, logLevel, type Admin, type Producer } from "kafkajs";
import { newKafkaClient } from "../../src/source/client/kafka-client.ts";
import { BROKERS, waitFor } from "./env.ts";

export function testKafka(clientId = "kafka-es-transfer-tests"): Kafka {
  return newKafkaClient({ clientId, brokers: BROKERS, logLevel: logLevel.NOTHING });
}

export async function withAdmin<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Topic-level settings, e.g. `{ "retention.ms": "-1" }`. */
export type TopicConfig = Readonly<Record<string, string>>;

export async function createTopics(topics: readonly string[], partitions: number, config: TopicConfig = {}): Promise<void> {
  const configEntries = Object.entries(config).map(([name, value]) => ({ name, value }));
  await withAdmin(async (admin) => {
    await admin.createTopics({
      waitForLeaders: true,
      topics: topics.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1, configEntries })),
    });
  });
}

export interface ProducedRecord {
  readonly key?: string | Buffer | null;
  readonly value: string | Buffer | null;
  readonly partition?: number;
  readonly headers?: Record<string, string>;
  readonly timestamp?: string;
}

/**
 * The tests' producer: idempotent, so that a send kafkajs retries after a retriable
 * error (a leader not yet elected right after topic creation, a timeout under load)
 * never writes a chunk twice; the tests compare exact counts.
 */
function testProducer(): Producer {
  return testKafka().producer({ allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1 });
}

/**
 * Produces records in chunks with acks from all replicas; `make(i)` builds record i.
 * Records are spread round-robin over partitions unless `make` picks one.
 */
export async function produce(topic: string, count: number, make: (i: number) => ProducedRecord, partitions?: number, chunk = 2_000): Promise<void> {
  const producer = testProducer();
  await producer.connect();
  try {
    for (let start = 0; start < count; start += chunk) {
      const end = Math.min(count, start + chunk);
      const messages = [];
      for (let i = start; i < end; i++) {
        const r = make(i);
        messages.push({
          key: r.key ?? null,
          value: r.value,
          ...(r.partition !== undefined ? { partition: r.partition } : partitions ? { partition: i % partitions } : {}),
          ...(r.headers ? { headers: r.headers } : {}),
          ...(r.timestamp ? { timestamp: r.timestamp } : {}),
        });
      }
      await producer.send({ topic, messages, acks: -1, compression: CompressionTypes.None });
    }
  } finally {
    await producer.disconnect();
  }
}

/** High watermark per partition. */
export async function endOffsets(topic: string): Promise<Map<number, bigint>> {
  return withAdmin(async (admin) => {
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
  });
}

/** The group's committed offset per partition (-1 when never committed). */
export async function committedOffsets(admin: Admin, groupId: string, topic: string): Promise<Map<number, bigint>> {
  const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return new Map((entry?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
}

/** One member of a consumer group as the coordinator describes it. */
export interface GroupMember {
  readonly memberId: string;
  readonly clientId: string;
  /** topic -> assigned partitions (sorted). */
  readonly assignment: ReadonlyMap<string, readonly number[]>;
}

export interface GroupState {
  readonly state: string;
  readonly members: readonly GroupMember[];
}

/** The group's state and members, with each member's assignment decoded. */
export async function describeGroup(admin: Admin, groupId: string): Promise<GroupState> {
  const { groups } = await admin.describeGroups([groupId]);
  const group = groups.find((g) => g.groupId === groupId);
  if (group === undefined) return { state: "Unknown", members: [] };
  const members = group.members.map((m) => {
    const assignment = new Map<string, number[]>();
    if (m.memberAssignment.length > 0) {
      const decoded = AssignerProtocol.MemberAssignment.decode(m.memberAssignment);
      for (const [topic, partitions] of Object.entries(decoded?.assignment ?? {})) {
        assignment.set(topic, [...partitions].sort((a, b) => a - b));
      }
    }
    return { memberId: m.memberId, clientId: m.clientId, assignment };
  });
  return { state: group.state, members };
}

/** Partitions of `topic` whose committed offset differs from the end offset, as "p: committed/end". */
export async function offsetGaps(admin: Admin, groupId: string, topic: string): Promise<string[]> {
  const [ends, committed] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    committedOffsets(admin, groupId, topic),
  ]);
  const gaps: string[] = [];
  for (const { partition, high } of ends) {
    const done = committed.get(partition);
    if (done !== BigInt(high)) gaps.push(`${topic}[${String(partition)}]: committed ${String(done ?? "none")} / end ${high}`);
  }
  return gaps;
}

/** Waits until the group's committed offsets equal the end offsets on every partition of every topic. */
export async function waitForCommittedAtEnd(groupId: string, topics: readonly string[], timeoutMs = 60_000): Promise<void> {
  await withAdmin(async (admin) => {
    let gaps: string[] = [];
    try {
      await waitFor(`committed == end offsets for group ${groupId}`, async () => {
        gaps = (await Promise.all(topics.map((t) => offsetGaps(admin, groupId, t)))).flat();
        return gaps.length === 0 ? true : undefined;
      }, timeoutMs, 500);
    } catch (error) {
      throw new Error(`${error instanceof Error ? error.message : String(error)}; still behind: ${gaps.join(", ")}`);
    }
  });
}

/** Total records per partition in a topic (end - start offsets), for topics nobody compacts or deletes. */
export async function recordsPerPartition(admin: Admin, topic: string): Promise<Map<number, bigint>> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return new Map(offsets.map((o) => [o.partition, BigInt(o.high) - BigInt(o.low)]));
}

/**
 * Produces `count` records spread evenly over about `durationMs`, in chunks, so that
 * something happens (a rebalance, an outage) while records keep arriving.
 */
export async function produceOverTime(topic: string, count: number, durationMs: number, make: (i: number) => ProducedRecord, partitions?: number, chunk = 1_000): Promise<void> {
  const producer = testProducer();
  await producer.connect();
  const started = Date.now();
  try {
    for (let start = 0; start < count; start += chunk) {
      const end = Math.min(count, start + chunk);
      const messages = [];
      for (let i = start; i < end; i++) {
        const r = make(i);
        messages.push({
          key: r.key ?? null,
          value: r.value,
          ...(r.partition !== undefined ? { partition: r.partition } : partitions ? { partition: i % partitions } : {}),
        });
      }
      await producer.send({ topic, messages, acks: -1, compression: CompressionTypes.None });
      const due = started + (durationMs * end) / count;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  } finally {
    await producer.disconnect();
  }
}

/** Asserts that the group committed nothing past the first record of `topic` on any partition (records held there). */
export async function assertHeldAtStart(groupId: string, topic: string): Promise<void> {
  await withAdmin(async (admin) => {
    for (const [partition, offset] of await committedOffsets(admin, groupId, topic)) {
      if (offset > 0n) throw new Error(`${topic}[${String(partition)}] committed past held records (${String(offset)})`);
    }
  });
}
