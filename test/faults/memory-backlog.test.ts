/**
 * Fault: a backlog read with throughput-tuned fetch sizes under the launchers' heap
 * flags (issue 17, item 3). 600,000 records of about 100 bytes on 12 partitions; the
 * worker starts with KAFKA_MAX_BYTES=50 MiB, KAFKA_MAX_BYTES_PER_PARTITION=10 MiB and
 * QUEUE_MAX_BYTES=200 MiB, a valid configuration. Before the memory model the first
 * fetch (50 MiB, about 450,000 records decoded at once, ~3 heap bytes per fetched byte)
 * passed the 64 MiB old space within seconds: "JavaScript heap out of memory", exit 134,
 * nothing indexed, and every restart fetched the same backlog again. Now start derives
 * the fetch size per broker from the heap left beside the queue, says so in one line,
 * and the backlog drains: every record once, committed == end. A queue that cannot fit
 * the heap at all is refused at start with one line (exit 2).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { suiteFixture } from "../support/fixture.ts";
import { createTopics } from "../support/kafka.ts";
import { runBacklogDrain } from "../support/memory-scenarios.ts";
import { WorkerProcess } from "../support/worker.ts";

const PARTITIONS = 12;

describe("fault: a backlog fetched with 50 MiB fetch sizes under the shipped heap flags", () => {
  const { es, name: topic, groupId } = suiteFixture("fault-memory-backlog");

  test("the fetch size is derived from the heap and the backlog drains: every record once, committed == end", async (t) => {
    await runBacklogDrain(t, {
      es, topic, groupId, partitions: PARTITIONS, total: 600_000, recordBytes: 100, drainMs: 600_000,
      createTopic: () => createTopics([topic], PARTITIONS, { "retention.ms": "-1" }),
      check: (w) => {
        const lowered = w.logs.find((l) => l.msg.startsWith("fetches lowered to"));
        assert.ok(lowered, "start says the fetch size was lowered to fit the heap");
        t.diagnostic(lowered.msg);
      },
    });
  });

  test("a queue the heap cannot hold at all is refused at start: one line naming the values, exit 2", async () => {
    const w = new WorkerProcess({ KAFKA_TOPICS: topic, KAFKA_GROUP_ID: `${groupId}-refused`, QUEUE_MAX_RECORDS: "200000" });
    const exit = await w.exited;
    assert.equal(exit.code, 2);
    const lines = w.stderr.filter((l) => l.trim() !== "");
    assert.equal(lines.length, 1, lines.join("\n"));
    assert.match(lines[0] ?? "", /^kafka-es-transfer: the V8 heap limit \(\d+ MiB\) cannot hold this configuration: QUEUE_MAX_RECORDS=200000/);
  });
});
