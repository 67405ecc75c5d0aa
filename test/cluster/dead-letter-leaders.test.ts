/**
 * Cluster fault for the dead-letter producer: dead letters written while the leaders of
 * the dead-letter topic's partitions are killed. kafkajs 2.2.4 resolves a retried send
 * without writing a partition whose leader moved to a broker that had already answered
 * (src/source/dead-letter/partition-check.ts): a dead letter reported written, its source
 * record acked and committed, and the dead letter not in Kafka. Every write that resolved
 * must be in the topic; writes that failed are written again, as the failure policy does.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { DeadLetterProducer } from "../../src/source/dead-letter/dead-letter-producer.ts";
import { busiestLeader, createClusterTopics, killBroker, startAllBrokers, startBroker } from "../support/cluster.ts";
import { readTopic } from "../support/dead-letters.ts";
import { sleep, uniqueName } from "../support/env.ts";
import { testKafka } from "../support/kafka.ts";

const RECORDS = 12_000;
const CHUNK = 300;
const PARTITIONS = 12;
const DOWN_MS = 12_000;

/** Writes record `i` until a write resolves (the failure policy retries a retriable failure the same way). */
async function writeUntilDone(producer: DeadLetterProducer, i: number): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      await producer.write({ key: null, value: Buffer.from(`dead-letter-${String(i)}`), headers: { "source.offset": String(i) }, timestamp: undefined });
      return attempt;
    } catch (error) {
      if (attempt >= 40) throw error;
      await sleep(500);
    }
  }
}

describe("cluster fault: dead letters while the dead-letter topic's leaders die", () => {
  const topic = uniqueName("cluster-dlq");
  after(() => startAllBrokers());

  test("every dead letter reported written is in the topic", async (t) => {
    await createClusterTopics([topic], PARTITIONS);
    const producer = new DeadLetterProducer(testKafka("cluster-dead-letters"), { topic, timeoutMs: 10_000, maxBatchRecords: 100 });
    let failedWrites = 0;
    const faults: string[] = [];
    const writing = (async () => {
      for (let start = 0; start < RECORDS; start += CHUNK) {
        const attempts = await Promise.all(Array.from({ length: Math.min(CHUNK, RECORDS - start) }, (_, k) => writeUntilDone(producer, start + k)));
        failedWrites += attempts.reduce((sum, a) => sum + a - 1, 0);
        await sleep(100);
      }
    })();
    const killing = (async () => {
      for (let round = 0; round < 2; round++) {
        await sleep(3_000);
        const node = await busiestLeader(topic);
        const at = Date.now();
        await killBroker(node);
        await sleep(DOWN_MS);
        await startBroker(node);
        faults.push(`node ${String(node)} killed ${String(Date.now() - at)} ms`);
      }
    })();
    await Promise.all([writing, killing]);
    await producer.close();
    const values = new Set((await readTopic(topic, 120_000)).map((r) => r.value?.toString()));
    const missing = Array.from({ length: RECORDS }, (_, i) => `dead-letter-${String(i)}`).filter((v) => !values.has(v));
    t.diagnostic(`dead letters ${String(RECORDS)}, faults: ${faults.join(", ")}; writes failed and written again: ${String(failedWrites)}; distinct in topic ${String(values.size)}`);
    assert.deepEqual(missing.slice(0, 10), [], `${String(missing.length)} dead letters reported written are not in the topic`);
  });
});
