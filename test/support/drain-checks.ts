/**
 * For the memory fault tests (issue 17): a worker either drains its backlog or dies
 * (a heap OOM ends in SIGABRT); its peak resident memory read from /proc.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { waitFor } from "./env.ts";
import { offsetGaps, withAdmin } from "./kafka.ts";
import type { WorkerProcess } from "./worker.ts";

/** Peak resident memory of a process in MiB (VmHWM), undefined once it is gone. */
export function peakRssMiB(pid: number | undefined): number | undefined {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${String(pid)}/status`, "utf8"))?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}

/**
 * Waits until the group committed the end of `topic`, failing at once (not at the
 * timeout) when the worker exits first, with its exit and the fatal lines of its stderr.
 * Resolves with the worker's peak RSS in MiB, sampled while it ran.
 */
export async function drainedOrFail(worker: WorkerProcess, groupId: string, topic: string, timeoutMs: number): Promise<number> {
  let peak = 0;
  const sampler = setInterval(() => { peak = Math.max(peak, peakRssMiB(worker.child.pid) ?? 0); }, 500);
  try {
    const outcome = await withAdmin((admin) => waitFor("committed == end, or the worker's exit", async () => {
      if (!worker.running) return "exited";
      return (await offsetGaps(admin, groupId, topic)).length === 0 ? "drained" : undefined;
    }, timeoutMs, 1_000));
    if (outcome === "exited") {
      const exit = await worker.exited;
      const fatal = worker.stderr.filter((l) => /heap|FATAL|kafka-es-transfer:/.test(l)).join(" | ");
      assert.fail(`the worker exited (code ${String(exit.code)}, signal ${String(exit.signal)}) before the backlog drained; stderr: ${fatal}`);
    }
  } finally {
    clearInterval(sampler);
  }
  return Math.max(peak, peakRssMiB(worker.child.pid) ?? 0);
}
