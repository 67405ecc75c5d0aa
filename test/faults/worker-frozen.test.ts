/**
 * Fault: a worker frozen (SIGSTOP: a GC pause, a stopped VM) for longer than its session
 * timeout while records keep arriving. The group expels it and the other worker takes
 * all partitions over; then the frozen one is woken (SIGCONT) with its stale in-flight
 * work and offsets, finds itself expelled and rejoins. Its late commits must never move
 * an offset back, and in the end every record is there once.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { sleep, waitFor } from "../support/env.ts";
import { assertFaultOutcome, FaultSampler, faultRecord, faultWorkerEnv } from "../support/fault-checks.ts";
import { suiteFixture } from "../support/fixture.ts";
import { createTopics, describeGroup, produceOverTime, withAdmin } from "../support/kafka.ts";
import { WorkerProcess, withWorkers } from "../support/worker.ts";

const N = 16_000;
const PARTITIONS = 4;
const SESSION_TIMEOUT_MS = 8_000;

describe("fault: a worker frozen past its session timeout, then woken", () => {
  const { es, name: topic, groupId } = suiteFixture("fault-frozen");

  test("the other takes over; the woken one rejoins without moving offsets back", async (t) => {
    const started = Date.now();
    const workers: WorkerProcess[] = [];
    await withWorkers(() => workers, async () => {
      await createTopics([topic], PARTITIONS);
      const env = faultWorkerEnv(topic, groupId, { KAFKA_SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS), KAFKA_HEARTBEAT_INTERVAL_MS: "1000" });
      const a = new WorkerProcess(env, ["start"], "A");
      const b = new WorkerProcess(env, ["start"], "B");
      workers.push(a, b);
      const sampler = new FaultSampler(groupId, [topic], () => workers);
      await Promise.all([a.ready(), b.ready()]);
      await waitFor("both members assigned", async () => {
        const group = await withAdmin((admin) => describeGroup(admin, groupId));
        return group.members.length === 2 && group.members.every((m) => (m.assignment.get(topic) ?? []).length > 0) ? true : undefined;
      }, 60_000, 500);
      const producing = produceOverTime(topic, N, 20_000, faultRecord, PARTITIONS, 500);
      await sleep(4_000);

      a.child.kill("SIGSTOP");
      const frozenAt = Date.now();
      try {
        await waitFor("B alone in the group with every partition", async () => {
          const group = await withAdmin((admin) => describeGroup(admin, groupId));
          const [only] = group.members;
          return group.members.length === 1 && only?.clientId !== undefined && (only.assignment.get(topic) ?? []).length === PARTITIONS ? true : undefined;
        }, 60_000, 500);
        t.diagnostic(`B took over ${String(Date.now() - frozenAt)} ms after A froze`);
        await sleep(3_000);
      } finally {
        a.child.kill("SIGCONT");
      }
      t.diagnostic(`A frozen for ${String(Date.now() - frozenAt)} ms`);
      await producing;

      const outcome = await assertFaultOutcome({ es, index: topic, topic, groupId, produced: N, sampler, workers });
      assert.ok(a.running && b.running, "both workers survived");
      t.diagnostic(`records ${String(outcome.records)}, faults: 1 worker frozen past its session timeout; max queue ${String(outcome.sampler.maxQueueRecords)}, ${String(outcome.sampler.offsetSamples)} offset samples; duration ${String(Date.now() - started)} ms`);
      assert.equal((await a.stop()).code, 0);
      assert.equal((await b.stop()).code, 0);
    });
  });
});
