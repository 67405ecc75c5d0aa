/**
 * Seeding per partition (issue 16 item 6): a topic whose offsets cannot be read (a
 * partition without a leader) keeps only its own partitions pending; the others are
 * seeded and may resume at once, and the retry seeds the rest when the broker answers.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Admin } from "kafkajs";
import pino from "pino";
import { Checkpointer } from "../../../../src/source/offsets/checkpointer.ts";
import { PartitionSeeder } from "../../../../src/source/offsets/partition-seeder.ts";
import { partitionKey } from "../../../../src/pipeline/record.ts";
import { waitFor } from "../../../support/env.ts";

/** Just the two reads the seeder makes; `down` topics fail as a leaderless partition does. */
function stubAdmin(down: Set<string>): Admin {
  const admin = {
    fetchOffsets: ({ topics }: { topics: string[] }) => Promise.resolve(topics.map((topic) => ({ topic, partitions: [{ partition: 0, offset: "5" }, { partition: 1, offset: "-1" }] }))),
    fetchTopicOffsets: (topic: string) => down.has(topic)
      ? Promise.reject(new Error("Broker -1 not found in the cached metadata"))
      : Promise.resolve([0, 1].map((partition) => ({ partition, offset: "10", high: "10", low: "0" }))),
  };
  return admin as unknown as Admin;
}

describe("PartitionSeeder", () => {
  test("a topic without offsets holds only its partitions; the rest are seeded, then it follows", async () => {
    const down = new Set(["lonely"]);
    const checkpointer = new Checkpointer();
    const assignment = ["flowing", "lonely"].flatMap((topic) => [0, 1].map((partition) => ({ topic, partition })));
    checkpointer.assign(assignment);
    let seededCalls = 0;
    const seeder = new PartitionSeeder(() => stubAdmin(down), checkpointer, { groupId: "g", fromBeginning: true, retryInitialMs: 5, retryMaxMs: 10 }, {
      seek: () => undefined,
      lost: () => undefined,
      seeded: () => { seededCalls++; },
      commitsSettled: () => Promise.resolve(),
    }, pino({ level: "silent" }));
    seeder.begin(assignment);
    try {
      await waitFor("flowing seeded", () => (seeder.isSeeded("flowing", 0) && seeder.isSeeded("flowing", 1) ? true : undefined), 5_000, 5);
    assert.deepEqual([...seeder.pending].sort(), [partitionKey("lonely", 0), partitionKey("lonely", 1)], "only the leaderless topic waits");
    assert.equal(seededCalls, 1);
    down.clear();
    await waitFor("lonely seeded", () => (seeder.pending.size === 0 ? true : undefined), 5_000, 5);
    assert.equal(seeder.isSeeded("lonely", 1), true);
    assert.equal(seededCalls, 2, "the flowing topic was not seeded twice");
    } finally {
      seeder.stop();
    }
  });
});
