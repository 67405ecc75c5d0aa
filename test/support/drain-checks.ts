/**
 * For the memory fault tests (issue 17): a worker either drains its backlog or dies
 * (a heap OOM ends in SIGABRT); its peak memory meanwhile (peak-memory.ts).
 */
import assert from "node:assert/strict";
import { waitFor } from "./env.ts";
import { offsetGaps, withAdmin } from "./kafka.ts";
import { describePeak, PeakSampler, type PeakMemory } from "./peak-memory.ts";
import type { WorkerProcess } from "./worker.ts";

/**
 * Waits until the group committed the end of `topic`, failing at once (not at the
 * timeout) when the worker exits first, with its exit and the fatal lines of its stderr.
 * Resolves with the worker's peak RSS and heap in use, sampled while it ran.
 */
export async function drainedOrFail(worker: WorkerProcess, groupId: string, topic: string, timeoutMs: number): Promise<PeakMemory> {
  const sampler = new PeakSampler(worker);
  let outcome: "exited" | "drained";
  try {
    outcome = await withAdmin((admin) => waitFor("committed == end, or the worker's exit", async () => {
      if (!worker.running) return "exited" as const;
      return (await offsetGaps(admin, groupId, topic)).length === 0 ? "drained" as const : undefined;
    }, timeoutMs, 1_000));
  } catch (error) {
    sampler.stop();
    throw error;
  }
  const peak = sampler.stop();
  if (outcome === "exited") {
    const exit = await worker.exited;
    const fatal = worker.stderr.filter((l) => /heap|FATAL|kafka-es-transfer:/.test(l)).join(" | ");
    assert.fail(`the worker exited (code ${String(exit.code)}, signal ${String(exit.signal)}) before the backlog drained (${describePeak(peak)}); stderr: ${fatal}`);
  }
  return peak;
}
