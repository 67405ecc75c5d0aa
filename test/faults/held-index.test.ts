/**
 * Issue 16, item 2: held partitions, not held workers. One worker reads three topics;
 * after a first wave is indexed, topic A's index is closed (then, in a second phase,
 * write-blocked): topics B and C keep flowing while A's partitions are held at Kafka;
 * A's committed offsets never pass its first refused record; once the operator
 * reopened (unblocked) the index, every record is there exactly once and committed ==
 * end everywhere. Variants: the default settings, BULK_WORKERS=8, the adaptive limit off.
 * (Before the fix, B and C stalled: every bulk slot held a batch of A retried in place.)
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Client } from "@elastic/elasticsearch";
import { countDocuments } from "../support/elasticsearch.ts";
import { waitFor } from "../support/env.ts";
import { faultRecord, faultWorkerEnv } from "../support/fault-checks.ts";
import { suiteFixture } from "../support/fixture.ts";
import { committedOffsets, createTopics, endOffsets, produce, waitForCommittedAtEnd, withAdmin } from "../support/kafka.ts";
import { metricSum, WorkerProcess, withWorkers } from "../support/worker.ts";

const PARTITIONS = 3;
const WAVES = [600, 3_000, 1_500];
/** Generous: the other topics must get through, however slow the machine (no timing is asserted). */
const FLOW_TIMEOUT_MS = 120_000;

const VARIANTS: readonly { name: string; env: Record<string, string> }[] = [
  { name: "default settings", env: {} },
  { name: "BULK_WORKERS=8", env: { BULK_WORKERS: "8" } },
  { name: "adaptive limit off", env: { BULK_ADAPTIVE_CONCURRENCY: "false" } },
];

async function waitForCounts(es: Client, indices: readonly string[], expected: number, what: string): Promise<void> {
  await waitFor(what, async () => {
    for (const index of indices) if ((await countDocuments(es, index)) < expected) return undefined;
    return true;
  }, FLOW_TIMEOUT_MS, 500);
}

/** A's committed offsets never pass the first record it had refused (the end offsets before the wave it refused). */
async function assertNotCommittedPast(groupId: string, topic: string, firstRefused: ReadonlyMap<number, bigint>): Promise<void> {
  await withAdmin(async (admin) => {
    for (const [partition, offset] of await committedOffsets(admin, groupId, topic)) {
      const limit = firstRefused.get(partition) ?? 0n;
      assert.ok(offset <= limit, `${topic}[${String(partition)}] committed ${String(offset)} past its first refused record ${String(limit)}`);
    }
  });
}

/** Blocks A's index (`block`), produces a wave everywhere, checks B and C flow while A is held, then repairs (`unblock`). */
async function heldPhase(params: {
  es: Client; worker: WorkerProcess; groupId: string; topics: readonly string[]; total: number; wave: number;
  block: () => Promise<unknown>; unblock: () => Promise<unknown>; reason: string;
}): Promise<void> {
  const { es, worker, groupId, topics, wave } = params;
  const [held, ...flowing] = topics as [string, ...string[]];
  const firstRefused = await endOffsets(held);
  await params.block();
  for (const topic of topics) await produce(topic, wave, faultRecord, PARTITIONS);
  const total = params.total + wave;
  await waitForCounts(es, flowing, total, `${flowing.join(", ")} indexed while ${held} is held`);
  await waitFor(`${held} held`, async () => (metricSum(await worker.scrape(), "kafka_es_transfer_partitions_held", { topic: held }) > 0 ? true : undefined), FLOW_TIMEOUT_MS, 500);
  const scrape = await worker.scrape();
  assert.ok(metricSum(scrape, "kafka_es_transfer_partitions_held", { topic: held, reason: params.reason }) > 0, `held for ${params.reason}`);
  assert.equal(metricSum(scrape, "kafka_es_transfer_partitions_held", { topic: flowing[0] ?? "" }), 0);
  const ready = await worker.get("/readyz");
  assert.equal(ready.status, 200, "a held partition does not make the worker unready");
  assert.match(JSON.stringify(ready.body), new RegExp(held));
  // A closed index cannot be counted; a write-blocked one can.
  const heldCount = await countDocuments(es, held).catch(() => undefined);
  if (heldCount !== undefined) assert.equal(heldCount, params.total, `nothing of the new wave reached the ${params.reason} index`);
  await assertNotCommittedPast(groupId, held, firstRefused);
  await params.unblock();
  await waitForCommittedAtEnd(groupId, topics, FLOW_TIMEOUT_MS);
  for (const topic of topics) assert.equal(await countDocuments(es, topic), total, `${topic}: every record once`);
  await waitFor(`${held} released`, async () => (metricSum(await worker.scrape(), "kafka_es_transfer_partitions_held") === 0 ? true : undefined), FLOW_TIMEOUT_MS, 500);
}

for (const variant of VARIANTS) {
  describe(`fault: one topic's index closed, then write-blocked (${variant.name})`, () => {
    const { es, name, groupId } = suiteFixture("held-index");
    const topics = ["a", "b", "c"].map((t) => `${name}-${t}`);
    const [held] = topics as [string];

    test("the other topics keep flowing; the held one is not committed past its first refused record; after the repair every record is there once", async (t) => {
      let worker: WorkerProcess | undefined;
      await withWorkers(() => [worker], async () => {
        await createTopics(topics, PARTITIONS);
        const w = new WorkerProcess({ ...faultWorkerEnv(topics.join(","), groupId), ON_PERMANENT_ERROR: "skip", ...variant.env });
        worker = w;
        await w.ready();
        const [first, second, third] = WAVES as [number, number, number];
        for (const topic of topics) await produce(topic, first, faultRecord, PARTITIONS);
        await waitForCommittedAtEnd(groupId, topics, FLOW_TIMEOUT_MS);

        await heldPhase({
          es, worker: w, groupId, topics, total: first, wave: second, reason: "index_closed_exception",
          block: () => es.indices.close({ index: held }),
          unblock: () => es.indices.open({ index: held, wait_for_active_shards: 1 }),
        });
        await heldPhase({
          es, worker: w, groupId, topics, total: first + second, wave: third, reason: "cluster_block_exception",
          block: () => es.indices.putSettings({ index: held, settings: { "index.blocks.write": true } }),
          unblock: () => es.indices.putSettings({ index: held, settings: { "index.blocks.write": false } }),
        });
        assert.equal(await w.metric("kafka_es_transfer_records_rejected_total"), 0, "nothing was rejected (and so nothing skipped)");
        const held_ = w.logs.filter((l) => l.msg.startsWith("partition held:"));
        const released = w.logs.filter((l) => l.msg.startsWith("partition released:"));
        t.diagnostic(`${String(held_.length)} "partition held" lines, ${String(released.length)} "partition released" lines`);
        assert.ok(held_.length >= PARTITIONS && released.length >= PARTITIONS, "one line per state change");
        assert.equal((await w.stop()).code, 0);
      });
    });
  });
}
