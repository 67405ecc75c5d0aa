/**
 * The shape every cluster scenario shares (test/cluster): a replication-factor-3 topic
 * with a backlog, two workers reading it, a fault injected while they are busy,
 * a last wave after the fault, and the fault suite's checks at the end (every record
 * once, committed == end, never backwards, queue bound held, lag 0).
 */
import assert from "node:assert/strict";
import type { TestContext } from "node:test";
import type { Client } from "@elastic/elasticsearch";
import { produceThroughFaults } from "./cluster.ts";
import { assertFaultOutcome, FaultSampler, faultRecord, faultWorkerEnv } from "./fault-checks.ts";
import { waitFor } from "./env.ts";
import { committedOffsets, withAdmin } from "./kafka.ts";
import { peakRssMiB } from "./peak-memory.ts";
import { WorkerProcess, withWorkers } from "./worker.ts";
import { createClusterTopics } from "./cluster.ts";

export const SCENARIO_PARTITIONS = 6;
const WAVE = 6_000;
/** Written before the workers start, so that they are still busy when the fault hits. */
const BACKLOG_WAVES = 3;

export interface ScenarioContext {
  readonly topic: string;
  /** Produces the next wave of records (resolves when written); call it while every node runs. */
  readonly produceWave: () => Promise<void>;
}

/** Waits until the group committed something on the topic: the fault hits a busy stream. */
async function waitForProgress(groupId: string, topic: string): Promise<void> {
  await withAdmin(async (admin) => {
    await waitFor(`first commits of ${groupId}`, async () => {
      const committed = [...(await committedOffsets(admin, groupId, topic)).values()];
      return committed.some((o) => o > 0n) ? true : undefined;
    }, 60_000, 200);
  });
}

/**
 * Runs one scenario: `fault` injects the fault (and undoes it), calling `produceWave` for
 * records written during it, and returns a line describing what it did.
 */
export async function runClusterScenario(t: TestContext, params: { es: Client; topic: string; groupId: string; fault: (ctx: ScenarioContext) => Promise<string> }): Promise<void> {
  const { es, topic, groupId } = params;
  const started = Date.now();
  const workers: WorkerProcess[] = [];
  let waves = 0;
  let fault = "";
  const produceWave = async (): Promise<void> => {
    const from = waves++ * WAVE;
    await produceThroughFaults(topic, from, WAVE, faultRecord, SCENARIO_PARTITIONS);
  };
  await withWorkers(() => workers, async () => {
    await createClusterTopics([topic], SCENARIO_PARTITIONS);
    for (let i = 0; i < BACKLOG_WAVES; i++) await produceWave();
    const env = faultWorkerEnv(topic, groupId);
    workers.push(new WorkerProcess(env, ["start"], "A"), new WorkerProcess(env, ["start"], "B"));
    const sampler = new FaultSampler(groupId, [topic], () => workers);
    // stopped on failure too: its loop would keep the test file from ever ending
    const outcome = await (async () => {
      try {
        await Promise.all(workers.map((w) => w.ready()));
        await waitForProgress(groupId, topic);
        fault = await params.fault({ topic, produceWave });
        await produceWave();
        return await assertFaultOutcome({ es, index: topic, topic, groupId, produced: waves * WAVE, sampler, workers, catchUpMs: 120_000 });
      } finally {
        await sampler.stop();
      }
    })();
    assert.ok(workers.every((w) => w.running), "both workers survived");
    const rss = workers.map((w) => peakRssMiB(w.child.pid));
    t.diagnostic(`records ${String(outcome.records)} (${String(waves * WAVE)} distinct), faults: ${fault}; max queue ${String(outcome.sampler.maxQueueRecords)}; peak RSS ${rss.map(String).join("/")} MiB; duration ${String(Date.now() - started)} ms`);
    for (const w of workers) assert.equal((await w.stop()).code, 0);
  });
}
