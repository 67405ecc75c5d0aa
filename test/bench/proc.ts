/** Reading another process's CPU time and memory from /proc (Linux only). */
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on every common kernel). */
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** User + system CPU seconds the process has used so far (its threads included). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${String(pid)}/stat`, "utf8");
  // The command name (field 2) may contain spaces: count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / CLOCK_TICKS;
}

export interface MemoryUse {
  /** Resident set size now. */
  readonly rssBytes: number;
  /** Peak resident set size since the process started (VmHWM). */
  readonly peakRssBytes: number;
}

export function memoryUse(pid: number): MemoryUse {
  const status = readFileSync(`/proc/${String(pid)}/status`, "utf8");
  const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN) * 1024;
  return { rssBytes: kib("VmRSS"), peakRssBytes: kib("VmHWM") };
}

export interface MachineInfo {
  readonly cores: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly hostname: string;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cores: os.availableParallelism(),
    cpuModel: cpus[0]?.model.trim() ?? "unknown",
    memoryGiB: os.totalmem() / 1024 ** 3,
    kernel: `${os.type()} ${os.release()} ${os.arch()}`,
    hostname: os.hostname(),
  };
}

/** The servers' pids, from `services.sh status` ("... pid 1234 ..."); missing ones are left out. */
export function serverPids(root: string): Record<string, number> {
  const out = spawnSync("bash", [path.join(root, "test/infra/services.sh"), "status"], { encoding: "utf8" });
  const pids: Record<string, number> = {};
  for (const line of `${out.stdout}\n${out.stderr}`.split("\n")) {
    const match = /^(kafka|elasticsearch|schema registry):.*\bpid (\d+)/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined) pids[match[1] === "schema registry" ? "registry" : match[1]] = Number(match[2]);
  }
  return pids;
}

/** Busy and total jiffies of the whole machine, summed over all cores (first line of /proc/stat). */
export function machineJiffies(): { busy: number; total: number } {
  const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0] ?? "";
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const total = values.reduce((a, b) => a + b, 0);
  const idle = (values[3] ?? 0) + (values[4] ?? 0); // idle + iowait
  return { busy: total - idle, total };
}

/** Who used the cores during a phase, in cores (CPU seconds per wall second). */
export interface CpuShares {
  readonly wallSeconds: number;
  /** Whole machine, all processes: at most the core count. */
  readonly machineCores: number;
  readonly byProcess: Readonly<Record<string, number>>;
}

/**
 * CPU use of the machine and of named processes between construction and `read()`:
 * shows whether a phase was limited by the cores (machine at its core count) and who
 * had them (Elasticsearch, Kafka, the worker, the bench itself).
 */
export class CpuMeter {
  readonly #pids: Record<string, number>;
  readonly #start: Record<string, number> = {};
  readonly #machine = machineJiffies();
  readonly #startedAt = performance.now();

  constructor(pids: Record<string, number>) {
    this.#pids = pids;
    for (const [name, pid] of Object.entries(pids)) {
      try {
        this.#start[name] = cpuSeconds(pid);
      } catch {
        // Gone already: left out of the result.
      }
    }
  }

  read(): CpuShares {
    const wallSeconds = (performance.now() - this.#startedAt) / 1000;
    const machine = machineJiffies();
    const cores = os.availableParallelism();
    const totalTicks = machine.total - this.#machine.total;
    const byProcess: Record<string, number> = {};
    for (const [name, pid] of Object.entries(this.#pids)) {
      const start = this.#start[name];
      if (start === undefined) continue;
      try {
        byProcess[name] = wallSeconds > 0 ? (cpuSeconds(pid) - start) / wallSeconds : 0;
      } catch {
        // Exited during the phase.
      }
    }
    return {
      wallSeconds,
      machineCores: totalTicks > 0 ? ((machine.busy - this.#machine.busy) / totalTicks) * cores : 0,
      byProcess,
    };
  }
}
