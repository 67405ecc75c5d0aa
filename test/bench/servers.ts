/**
 * What the bench does to the servers: fresh topics and indices with fixed settings,
 * offsets, counts, clean-up, and waiting until the machine is quiet between phases.
 */
import type { Client } from "@elastic/elasticsearch";
import { countDocuments, deleteIndices } from "../support/elasticsearch.ts";
import { withAdmin } from "../support/kafka.ts";
import { sleep } from "../support/env.ts";
import { machineJiffies } from "./proc.ts";

/** Every topic, group and index the bench creates starts with this, so clean-up cannot hit anything else. */
export const BENCH_PREFIX = "kesbench-";

/**
 * The settings of every bench index, ceiling and worker alike: one primary shard (the
 * 8.x default), no replica (a single node could not place it), default refresh (1 s).
 */
export const INDEX_SETTINGS = { number_of_shards: 1, number_of_replicas: 0 } as const;

export async function createIndex(es: Client, index: string): Promise<void> {
  await es.indices.delete({ index, ignore_unavailable: true });
  await es.indices.create({ index, settings: { index: INDEX_SETTINGS }, wait_for_active_shards: 1 });
}

export async function indexCount(es: Client, index: string): Promise<number> {
  return countDocuments(es, index);
}

export async function deleteIndex(es: Client, index: string): Promise<void> {
  await deleteIndices(es, index);
}

export async function createTopic(topic: string, partitions: number): Promise<void> {
  await withAdmin(async (admin) => {
    const created = await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }],
    });
    if (!created) throw new Error(`topic ${topic} already exists`);
  });
}

export async function deleteTopics(topics: readonly string[]): Promise<void> {
  if (topics.length === 0) return;
  await withAdmin(async (admin) => {
    const existing = new Set(await admin.listTopics());
    const present = topics.filter((t) => existing.has(t));
    if (present.length > 0) await admin.deleteTopics({ topics: present, timeout: 30_000 });
  });
}

export async function deleteGroups(groups: readonly string[]): Promise<void> {
  if (groups.length === 0) return;
  await withAdmin(async (admin) => {
    const known = new Set((await admin.listGroups()).groups.map((g) => g.groupId));
    const present = groups.filter((g) => known.has(g));
    if (present.length > 0) await admin.deleteGroups(present).catch(() => undefined);
  });
}

/** Leftovers of an interrupted bench run (same prefix), so they neither fill the disk nor cost merges. */
export async function deleteLeftovers(es: Client): Promise<{ indices: number; topics: number }> {
  const indices = await es.cat.indices({ index: `${BENCH_PREFIX}*`, format: "json", h: "index" });
  await deleteIndices(es, `${BENCH_PREFIX}*`);
  const topics = await withAdmin(async (admin) => (await admin.listTopics()).filter((t) => t.startsWith(BENCH_PREFIX)));
  await deleteTopics(topics);
  return { indices: indices.length, topics: topics.length };
}

/** Sum over partitions of the high watermark minus the low one: records present in the topic. */
export async function topicRecords(topic: string): Promise<number> {
  return withAdmin(async (admin) => {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, o) => sum + Number(o.high) - Number(o.low), 0);
  });
}

/** Records between the group's committed offsets and the end of the topic (a group without commits lags by everything). */
export async function commitLag(admin: Parameters<Parameters<typeof withAdmin>[0]>[0], groupId: string, topic: string): Promise<number> {
  const [ends, committed] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    admin.fetchOffsets({ groupId, topics: [topic] }),
  ]);
  const byPartition = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  let lag = 0;
  for (const end of ends) {
    const at = byPartition.get(end.partition) ?? -1;
    lag += Number(end.high) - (at < 0 ? Number(end.low) : at);
  }
  return lag;
}

/**
 * Waits until the machine is mostly idle (merges, flushes and GC of the previous
 * phase done), so that one phase does not pay for the last one. Gives up after
 * `maxMs` and says how busy it still was.
 */
export async function settle(maxMs = 45_000, idleShare = 0.85): Promise<{ waitedMs: number; busyShare: number }> {
  const started = Date.now();
  let busyShare = 1;
  let previous = machineJiffies();
  let quietRuns = 0;
  while (Date.now() - started < maxMs) {
    await sleep(1_000);
    const current = machineJiffies();
    const total = current.total - previous.total;
    busyShare = total > 0 ? (current.busy - previous.busy) / total : 0;
    previous = current;
    quietRuns = busyShare <= 1 - idleShare ? quietRuns + 1 : 0;
    if (quietRuns >= 2) break;
  }
  return { waitedMs: Date.now() - started, busyShare };
}
