/**
 * A fix for kafkajs 2.2.4's metadata responses (the library is unmaintained since 2023).
 *
 * kafkajs throws the first partition error of a Metadata response, for any partition of
 * any topic asked for. A partition whose every replica sits on brokers that are down (a
 * replication-factor-1 topic whose broker stopped) answers LEADER_NOT_AVAILABLE until
 * that broker returns, so one such partition made every metadata refresh of the
 * consumer fail: the whole group stopped, every other topic with it, and the lag monitor
 * failed too. The Java client keeps such a partition without a leader and reads the rest.
 *
 * The replacement does the same for partitions that are offline: no replica on a broker
 * the response lists as alive (or every replica listed offline). They keep leader -1,
 * which kafkajs' fetchers skip (each fetches the partitions its broker leads). An error
 * while live replicas elect a leader (a topic just created, a leader moving) is still
 * thrown, so kafkajs' own retries (producers, `createTopics` waiting for leaders) behave
 * as before. And while a cached partition is offline, the client refreshes its metadata
 * every OFFLINE_RECHECK_MS instead of every 5 minutes (metadataMaxAge), so the partition is
 * read again, and its offsets asked of the right leader, soon after its broker returns.
 */
import { createRequire } from "node:module";

/** The parts of a decoded Metadata response the fix reads. */
export interface MetadataPartition {
  readonly partitionErrorCode: number;
  readonly partitionId: number;
  readonly leader: number;
  readonly replicas: readonly number[];
  readonly offlineReplicas?: readonly number[];
}
export interface MetadataTopic {
  readonly topicErrorCode: number;
  readonly topic: string;
  readonly partitionMetadata: readonly MetadataPartition[];
}
export interface MetadataResponse {
  readonly brokers: readonly { readonly nodeId: number }[];
  readonly topicMetadata: readonly MetadataTopic[];
}

/** Kafka's LEADER_NOT_AVAILABLE and REPLICA_NOT_AVAILABLE: what an offline partition answers. */
const OFFLINE_CODES = new Set([5, 9]);

/** True when no replica of the partition is on a live broker: it stays leaderless until one returns. */
export function isOfflinePartition(partition: MetadataPartition, liveBrokers: ReadonlySet<number>): boolean {
  if (!OFFLINE_CODES.has(partition.partitionErrorCode)) return false;
  const offline = new Set(partition.offlineReplicas ?? []);
  return partition.replicas.every((replica) => offline.has(replica) || !liveBrokers.has(replica));
}

/**
 * The error code kafkajs should throw for this response (0: none): its first topic
 * error, else its first partition error that is not an offline partition.
 */
export function metadataErrorCode(data: MetadataResponse): number {
  const topicError = data.topicMetadata.find((t) => t.topicErrorCode !== 0);
  if (topicError !== undefined) return topicError.topicErrorCode;
  const live = new Set(data.brokers.map((b) => b.nodeId));
  for (const topic of data.topicMetadata) {
    const failed = topic.partitionMetadata.find((p) => p.partitionErrorCode !== 0 && !isOfflinePartition(p, live));
    if (failed !== undefined) return failed.partitionErrorCode;
  }
  return 0;
}

/** How soon a client whose metadata has an offline partition asks again. */
export const OFFLINE_RECHECK_MS = 2_000;

/** When cached metadata expires: sooner than kafkajs' own expiry while a partition has no leader. */
export function metadataExpiry(data: MetadataResponse | null | undefined, expireAt: number | null, now: number): number | null {
  if (expireAt === null || data == null) return expireAt;
  const leaderless = data.topicMetadata.some((t) => t.partitionMetadata.some((p) => p.leader < 0));
  return leaderless ? Math.min(expireAt, now + OFFLINE_RECHECK_MS) : expireAt;
}

interface BrokerPoolState {
  metadata: MetadataResponse | null;
  metadataExpireAt: number | null;
}
interface BrokerPoolPrototype {
  refreshMetadata: (this: BrokerPoolState, topics: readonly string[]) => Promise<void>;
  recheckingOffline?: true;
}

function fixExpiry(prototype: BrokerPoolPrototype): void {
  if (prototype.recheckingOffline) return;
  const refresh = prototype.refreshMetadata;
  prototype.refreshMetadata = async function refreshMetadata(this: BrokerPoolState, topics: readonly string[]): Promise<void> {
    await refresh.call(this, topics);
    this.metadataExpireAt = metadataExpiry(this.metadata, this.metadataExpireAt, Date.now());
  };
  prototype.recheckingOffline = true;
}

const METADATA_RESPONSES = [0, 1, 2, 3, 4, 5, 6].map((v) => `kafkajs/src/protocol/requests/metadata/v${String(v)}/response.js`);

interface ResponseModule {
  parse: (data: MetadataResponse) => Promise<MetadataResponse>;
  tolerantOfOffline?: true;
}

/**
 * Replaces `parse` of every Metadata response version in the loaded kafkajs (idempotent).
 * Returns false when kafkajs does not have the expected shape: then nothing is changed.
 */
export function fixKafkajsOfflinePartitions(): boolean {
  const load = createRequire(import.meta.url);
  const errors: unknown = load("kafkajs/src/protocol/error.js");
  const createError = (errors as { createErrorFromCode?: unknown }).createErrorFromCode;
  const modules = METADATA_RESPONSES.map((m) => load(m) as Partial<ResponseModule>);
  const pool = (load("kafkajs/src/cluster/brokerPool.js") as { prototype?: Partial<BrokerPoolPrototype> }).prototype;
  if (typeof createError !== "function" || !modules.every((m) => typeof m.parse === "function")) return false;
  if (typeof pool?.refreshMetadata !== "function") return false;
  fixExpiry(pool as BrokerPoolPrototype);
  for (const module of modules as ResponseModule[]) {
    if (module.tolerantOfOffline) continue;
    module.parse = (data) => {
      const code = metadataErrorCode(data);
      if (code !== 0) return Promise.reject((createError as (code: number) => Error)(code));
      return Promise.resolve(data);
    };
    module.tolerantOfOffline = true;
  }
  return true;
}
