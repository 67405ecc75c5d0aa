/**
 * Fault: binary values through a 429 storm with large bulk requests, under the
 * launchers' heap flags (issue 17, item 3). 3,000 records of 16 KiB that are not UTF-8
 * (Avro or compressed blobs without a decoder), BULK_MAX_BYTES=15 MiB, Elasticsearch
 * answering every bulk request 429 for 20 s while the worker reads the backlog. Before,
 * a binary value became a JavaScript string of its text and base64 as soon as it was
 * batched (about 4.5 heap bytes per payload byte, held through every retry): two
 * workers' 15 MiB of such records passed the 64 MiB old space ("JavaScript heap out of
 * memory"). Now the value stays the record's Buffer until the bulk body is written,
 * and the backlog drains: every record once, committed == end, documents unchanged.
 */
import { describe, test } from "node:test";
import { suiteFixture } from "../support/fixture.ts";
import { createTopics } from "../support/kafka.ts";
import { runBinaryStorm } from "../support/memory-scenarios.ts";

const PARTITIONS = 4;

describe("fault: 16 KiB binary records through a 429 storm with 15 MiB bulk requests", () => {
  const { es, name: topic, groupId } = suiteFixture("fault-binary-storm");

  test("binary values are held as bytes: the backlog drains through the storm, every record once", async (t) => {
    await runBinaryStorm(t, { es, topic, groupId, partitions: PARTITIONS, createTopic: () => createTopics([topic], PARTITIONS, { "retention.ms": "-1" }) });
  });
});
