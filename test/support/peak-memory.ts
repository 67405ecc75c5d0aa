/**
 * A worker's peak memory while a test runs (issue 17): resident memory from /proc
 * (VmHWM, the kernel's own high-water mark) and V8's heap in use from the worker's
 * /metrics, beside the heap the memory model planned for (its start-up line).
 */
import { readFileSync } from "node:fs";
import type { WorkerProcess } from "./worker.ts";

const MIB = 2 ** 20;

/** Peak resident memory of a process in whole MiB (VmHWM); undefined once it is gone. */
export function peakRssMiB(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const kib = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${String(pid)}/status`, "utf8"))?.[1];
    return kib === undefined ? undefined : Math.round(Number(kib) / 1024);
  } catch {
    return undefined;
  }
}

export interface PeakMemory {
  readonly rssMiB: number;
  /** The largest V8 heap in use seen in the worker's /metrics (sampled: a short spike may fall between two scrapes). */
  readonly heapUsedMiB: number | undefined;
}

/**
 * Samples a worker until stopped: its peak RSS every 500 ms (VmHWM keeps the peak, the
 * sampling only has to catch it before the process is gone) and its heap in use every 2 s.
 */
export class PeakSampler {
  readonly #worker: WorkerProcess;
  readonly #timers: NodeJS.Timeout[];
  #rss = 0;
  #heap: number | undefined;

  constructor(worker: WorkerProcess) {
    this.#worker = worker;
    this.#timers = [
      setInterval(() => { this.#sampleRss(); }, 500),
      setInterval(() => { void this.#sampleHeap(); }, 2_000),
    ];
  }

  #sampleRss(): void {
    this.#rss = Math.max(this.#rss, peakRssMiB(this.#worker.child.pid) ?? 0);
  }

  async #sampleHeap(): Promise<void> {
    if (this.#worker.metricsPort === undefined || !this.#worker.running) return;
    const used = await this.#worker.metric("nodejs_heap_size_used_bytes").catch(() => 0);
    if (used > 0) this.#heap = Math.max(this.#heap ?? 0, used / MIB);
  }

  stop(): PeakMemory {
    for (const timer of this.#timers) clearInterval(timer);
    this.#sampleRss();
    return { rssMiB: this.#rss, heapUsedMiB: this.#heap };
  }
}

/** "peak RSS 120 MiB, peak heap in use 50 MiB" for a test's diagnostic line. */
export function describePeak(peak: PeakMemory): string {
  const heap = peak.heapUsedMiB === undefined ? "not sampled" : `${peak.heapUsedMiB.toFixed(0)} MiB`;
  return `peak RSS ${String(peak.rssMiB)} MiB, peak heap in use ${heap}`;
}

/** The worker's "memory model: ..." start-up line: what it planned the heap for. */
export function memoryModelLine(worker: WorkerProcess): string {
  return worker.logs.find((l) => l.msg.startsWith("memory model:"))?.msg ?? "no memory model line (a build before the memory model)";
}
