import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isOfflinePartition, metadataErrorCode, metadataExpiry, OFFLINE_RECHECK_MS, type MetadataPartition, type MetadataResponse } from "../../../../src/source/client/kafkajs-metadata.ts";

const LEADER_NOT_AVAILABLE = 5;
const UNKNOWN_TOPIC_OR_PARTITION = 3;

function partition(partitionId: number, leader: number, replicas: number[], code = 0, offlineReplicas?: number[]): MetadataPartition {
  return { partitionErrorCode: code, partitionId, leader, replicas, ...(offlineReplicas ? { offlineReplicas } : {}) };
}

function response(brokers: number[], topics: Record<string, MetadataPartition[]>, topicErrorCode = 0): MetadataResponse {
  return {
    brokers: brokers.map((nodeId) => ({ nodeId })),
    topicMetadata: Object.entries(topics).map(([topic, partitionMetadata]) => ({ topic, topicErrorCode, partitionMetadata })),
  };
}

describe("offline partitions in kafkajs metadata", () => {
  test("a partition whose only replica's broker is down is offline; one with a live replica is electing", () => {
    const live = new Set([1, 2]);
    assert.equal(isOfflinePartition(partition(0, -1, [3], LEADER_NOT_AVAILABLE), live), true);
    assert.equal(isOfflinePartition(partition(0, -1, [2, 3], LEADER_NOT_AVAILABLE), live), false);
    assert.equal(isOfflinePartition(partition(0, -1, [2, 3], LEADER_NOT_AVAILABLE, [2, 3]), live), true, "replicas the broker lists offline");
    assert.equal(isOfflinePartition(partition(0, -1, [3], UNKNOWN_TOPIC_OR_PARTITION), live), false, "other errors are not an outage");
  });

  test("an offline partition of one topic does not fail the response; the other topics are read", () => {
    const data = response([1, 2], { flowing: [partition(0, 1, [1, 2, 3]), partition(1, 2, [1, 2, 3])], lonely: [partition(0, -1, [3], LEADER_NOT_AVAILABLE)] });
    assert.equal(metadataErrorCode(data), 0);
  });

  test("a leader being elected among live replicas, or a topic error, still fails it (kafkajs retries those)", () => {
    assert.equal(metadataErrorCode(response([1, 2, 3], { fresh: [partition(0, -1, [1, 2, 3], LEADER_NOT_AVAILABLE)] })), LEADER_NOT_AVAILABLE);
    assert.equal(metadataErrorCode(response([1, 2, 3], { gone: [] }, UNKNOWN_TOPIC_OR_PARTITION)), UNKNOWN_TOPIC_OR_PARTITION);
  });

  test("cached metadata with a leaderless partition expires within OFFLINE_RECHECK_MS; otherwise kafkajs' expiry stands", () => {
    const now = 1_000_000;
    const later = now + 300_000;
    const offline = response([1, 2], { lonely: [partition(0, -1, [3], LEADER_NOT_AVAILABLE)] });
    const healthy = response([1, 2, 3], { lonely: [partition(0, 3, [3])] });
    assert.equal(metadataExpiry(offline, later, now), now + OFFLINE_RECHECK_MS);
    assert.equal(metadataExpiry(healthy, later, now), later);
    assert.equal(metadataExpiry(offline, null, now), null, "no expiry: kafkajs refreshes anyway");
    assert.equal(metadataExpiry(null, later, now), later);
  });
});
