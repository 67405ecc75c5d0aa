/**
 * Fault: workers joining and leaving fast while records keep coming: every few seconds
 * a worker starts, stops gracefully (SIGTERM) or crashes (SIGKILL), so the group
 * rebalances again and again, sometimes in the middle of a rebalance. Records of a
 * crashed worker are redelivered (same ids: overwritten), a graceful one commits what
 * it finished; in the end every record is there once and no offset ever went back.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { sleep } from "../support/env.ts";
import { assertFaultOutcome, FaultSampler, faultRecord, faultWorkerEnv } from "../support/fault-checks.ts";
import { suiteFixture } from "../support/fixture.ts";
import { createTopics, produceOverTime } from "../support/kafka.ts";
import { WorkerProcess, withWorkers } from "../support/worker.ts";

const N = 16_000;
const PARTITIONS = 6;
const STEP_MS = 3_000;

type Step = { readonly start: string } | { readonly term: string } | { readonly kill: string };

/** Who comes and goes, one step every STEP_MS; D and E are left running. */
const STEPS: readonly Step[] = [
  { start: "B" }, { start: "C" }, { term: "A" }, { kill: "B" }, { start: "D" }, { term: "C" }, { start: "E" },
];

describe("fault: workers joining and leaving fast", () => {
  const { es, name: topic, groupId } = suiteFixture("fault-churn");

  test("starts, graceful stops and crashes every 3 s: every record once, offsets never back", async (t) => {
    const started = Date.now();
    const workers: WorkerProcess[] = [];
    await withWorkers(() => workers, async () => {
      await createTopics([topic], PARTITIONS);
      const env = faultWorkerEnv(topic, groupId, { SHUTDOWN_TIMEOUT_MS: "10000" });
      const byName = new Map<string, WorkerProcess>();
      const launch = (name: string): void => {
        const worker = new WorkerProcess(env, ["start"], name);
        byName.set(name, worker);
        workers.push(worker);
      };
      launch("A");
      const sampler = new FaultSampler(groupId, [topic], () => workers);
      await byName.get("A")?.ready();
      const producing = produceOverTime(topic, N, 20_000, faultRecord, PARTITIONS, 500);
      const exits: Promise<unknown>[] = [];
      for (const step of STEPS) {
        await sleep(STEP_MS);
        if ("start" in step) launch(step.start);
        else if ("term" in step) exits.push(byName.get(step.term)?.stop() ?? Promise.resolve());
        else byName.get(step.kill)?.kill("SIGKILL");
      }
      await producing;
      await Promise.all(exits);
      const survivors = workers.filter((w) => w.running);
      assert.deepEqual(survivors.map((w) => w.name), ["D", "E"]);

      const outcome = await assertFaultOutcome({ es, index: topic, topic, groupId, produced: N, sampler, workers: survivors });
      for (const name of ["A", "C"]) {
        const worker = byName.get(name);
        const exit = await worker?.exited;
        // A worker signalled while still starting has nothing to drain: its signal handler is
        // not installed yet and SIGTERM ends it at once (main.ts installs it once started).
        const started = (worker?.logsWith("consumer started").length ?? 0) > 0;
        assert.ok(exit?.code === 0 || (!started && exit?.signal === "SIGTERM"), `${name} stopped gracefully: ${JSON.stringify(exit)}`);
      }
      t.diagnostic(`records ${String(outcome.records)}, faults: 5 joins, 2 graceful leaves, 1 crash, one every ${String(STEP_MS)} ms; max queue ${String(outcome.sampler.maxQueueRecords)}; duration ${String(Date.now() - started)} ms`);
      for (const w of survivors) assert.equal((await w.stop()).code, 0);
    });
  });
});
