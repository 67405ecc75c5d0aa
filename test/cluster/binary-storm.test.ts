/**
 * Cluster: binary values through a 429 storm with large bulk requests under the
 * launchers' heap flags, read from three brokers (issue 17, "how to prove it"; the
 * one-broker version is test/faults/binary-storm.test.ts). 3,000 records of 16 KiB that
 * are not UTF-8 on 6 partitions led by the three brokers (RF 3, min.insync 2),
 * BULK_MAX_BYTES=15 MiB, Elasticsearch answering every bulk request 429 for 20 s while
 * the worker reads the backlog. Before the memory model a binary value became a
 * JavaScript string of its text and base64 as soon as it was batched (about 4.5 heap
 * bytes per payload byte, held through every retry) and the fetches from three brokers
 * came on top: "JavaScript heap out of memory". Now the value stays the record's Buffer
 * until the bulk body is written: every record once, committed == end.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createClusterTopics, leadersOf } from "../support/cluster.ts";
import { suiteFixture } from "../support/fixture.ts";
import { runBinaryStorm } from "../support/memory-scenarios.ts";

const PARTITIONS = 6;

describe("cluster: 16 KiB binary records from three brokers through a 429 storm with 15 MiB bulk requests", () => {
  const { es, name: topic, groupId } = suiteFixture("cluster-binary-storm");

  test("binary values are held as bytes: the backlog drains through the storm, every record once", async (t) => {
    await runBinaryStorm(t, {
      es, topic, groupId, partitions: PARTITIONS,
      createTopic: async () => {
        await createClusterTopics([topic], PARTITIONS);
        assert.equal(new Set((await leadersOf(topic)).values()).size, 3, "the partitions' leaders are on the three brokers");
      },
    });
  });
});
