/**
 * Cluster: a backlog read with throughput-tuned fetch sizes under the launchers' heap
 * flags, from three brokers at once (issue 17, "how to prove it"). 2,000,000 records of
 * 120 bytes on 24 partitions whose leaders are spread over the three brokers (RF 3,
 * min.insync 2); the worker starts with KAFKA_MAX_BYTES=50 MiB,
 * KAFKA_MAX_BYTES_PER_PARTITION=10 MiB and QUEUE_MAX_BYTES=200 MiB, a valid
 * configuration. kafkajs keeps one fetch in flight per broker, so three brokers mean
 * three fetch responses decoded at once: before the memory model, 50 MiB fetches
 * (~3 heap bytes per fetched byte) passed the 64 MiB old space ("JavaScript heap out of
 * memory", exit 134). Now start derives the fetch size per broker from the brokers it
 * counted and the heap left beside the queue, and the backlog drains: every record once
 * (documents == records), committed == end.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createClusterTopics, leadersOf } from "../support/cluster.ts";
import { suiteFixture } from "../support/fixture.ts";
import { memoryModelLine } from "../support/peak-memory.ts";
import { runBacklogDrain } from "../support/memory-scenarios.ts";

const PARTITIONS = 24;
/** Producing and draining 2,000,000 records take minutes on a shared machine. */
const DRAIN_MS = 900_000;

describe("cluster: a backlog of 2,000,000 records fetched from three brokers under the shipped heap flags", () => {
  const { es, name: topic, groupId } = suiteFixture("cluster-memory-backlog");

  test("the fetch size is derived per broker and the backlog drains: every record once, committed == end", { timeout: DRAIN_MS + 300_000 }, async (t) => {
    await runBacklogDrain(t, {
      es, topic, groupId, partitions: PARTITIONS, total: 2_000_000, recordBytes: 120, drainMs: DRAIN_MS,
      createTopic: async () => {
        await createClusterTopics([topic], PARTITIONS);
        assert.equal(new Set((await leadersOf(topic)).values()).size, 3, "the partitions' leaders are on the three brokers");
      },
      check: (w) => {
        assert.match(memoryModelLine(w), /3 broker\(s\)/, "start counted the three brokers");
      },
    });
  });
});
