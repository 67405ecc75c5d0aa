/**
 * BENCH_PIN=1: the bench measured as a deployment looks, Elasticsearch on cores of its
 * own and everything else (Kafka, the registry, the bench, the worker and the ceiling
 * loaders) on the rest. On a shared 2-core box the worker / ceiling ratio otherwise
 * measures co-location: every CPU-second the worker spends is taken from Elasticsearch.
 *
 * The plan is pure (tested without servers); `applyPinning` runs `taskset -a -p` on the
 * servers' pids (every thread) and on the bench's own process, whose children (the
 * worker) inherit the mask. `restore` gives every pinned process all cores back.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

export interface PinPlan {
  /** Cores Elasticsearch runs on, as a taskset list ("0"). */
  readonly esCores: string;
  /** Cores for everything else ("1" on 2 cores, "2-7" on 8 with BENCH_PIN_ES_CORES=0-1). */
  readonly restCores: string;
  /** All cores ("0-1"): what `restore` sets. */
  readonly allCores: string;
  readonly esCoreCount: number;
}

/** "0-2,5" -> [0, 1, 2, 5]; throws naming the value when it is not a core list. */
export function parseCoreList(list: string, what: string): number[] {
  const cores = new Set<number>();
  for (const part of list.split(",").map((p) => p.trim())) {
    const match = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (match?.[1] === undefined) throw new Error(`${what}: "${list}" is not a core list such as 0 or 0-1,4`);
    const from = Number(match[1]);
    const to = match[2] === undefined ? from : Number(match[2]);
    if (to < from) throw new Error(`${what}: "${part}" ends before it starts`);
    for (let c = from; c <= to; c++) cores.add(c);
  }
  return [...cores].sort((a, b) => a - b);
}

/** [0, 1, 2, 5] -> "0-2,5". */
export function formatCoreList(cores: readonly number[]): string {
  const ranges: string[] = [];
  let start: number | undefined;
  let previous: number | undefined;
  for (const core of [...cores, Number.NaN]) {
    if (start !== undefined && previous !== undefined && core !== previous + 1) {
      ranges.push(start === previous ? String(start) : `${String(start)}-${String(previous)}`);
      start = undefined;
    }
    if (!Number.isNaN(core) && start === undefined) start = core;
    previous = core;
  }
  return ranges.join(",");
}

/**
 * Elasticsearch on `esList` (default: core 0), the rest on every other core. Refuses a
 * machine of one core, or a list that leaves nothing for the rest or names a core the
 * machine does not have.
 */
export function planPinning(coreCount: number, esList = "0"): PinPlan {
  if (coreCount < 2) throw new Error(`BENCH_PIN=1 needs at least 2 cores (this machine has ${String(coreCount)})`);
  const all = Array.from({ length: coreCount }, (_, i) => i);
  const es = parseCoreList(esList, "BENCH_PIN_ES_CORES");
  const missing = es.filter((c) => c >= coreCount);
  if (missing.length > 0) throw new Error(`BENCH_PIN_ES_CORES: core ${String(missing[0])} does not exist (cores 0-${String(coreCount - 1)})`);
  const rest = all.filter((c) => !es.includes(c));
  if (rest.length === 0) throw new Error(`BENCH_PIN_ES_CORES: "${esList}" leaves no core for the worker, Kafka and the bench`);
  return { esCores: formatCoreList(es), restCores: formatCoreList(rest), allCores: formatCoreList(all), esCoreCount: es.length };
}

/** The one-line statement of the report ("Elasticsearch on core 0; worker, Kafka and bench on 1"). */
export function describePinning(plan: PinPlan | undefined): string {
  if (plan === undefined) return "not pinned: the worker, the servers and the bench share every core";
  return `pinned: Elasticsearch alone on core(s) ${plan.esCores}; the worker, Kafka, the registry and the bench on ${plan.restCores}`;
}

/** The cores a process may run on now, from /proc (Cpus_allowed_list). */
export function allowedCores(pid: number): string {
  const status = readFileSync(`/proc/${String(pid)}/status`, "utf8");
  return /^Cpus_allowed_list:\s+(\S+)/m.exec(status)?.[1] ?? "unknown";
}

function taskset(cores: string, pid: number, name: string): void {
  const result = spawnSync("taskset", ["-a", "-p", "-c", cores, String(pid)], { encoding: "utf8" });
  if (result.error !== undefined) throw new Error(`BENCH_PIN=1 needs taskset (util-linux): ${result.error.message}`, { cause: result.error });
  if (result.status !== 0) throw new Error(`taskset could not pin ${name} (pid ${String(pid)}) to ${cores}: ${result.stderr.trim()}`);
}

export interface AppliedPinning {
  readonly plan: PinPlan;
  /** What each pinned process was allowed afterwards, read back from /proc. */
  readonly allowed: Readonly<Record<string, string>>;
  restore(): void;
}

/**
 * Pins `pids.elasticsearch` to the plan's ES cores and every other named pid (Kafka,
 * the registry, the bench itself) to the rest. Processes started later by the bench
 * (the worker, kcat) inherit the bench's mask.
 */
export function applyPinning(plan: PinPlan, pids: Readonly<Record<string, number>>): AppliedPinning {
  const es = pids.elasticsearch;
  if (es === undefined) throw new Error("BENCH_PIN=1: Elasticsearch's pid is unknown (services.sh status did not name it)");
  const pinned = Object.entries(pids);
  for (const [name, pid] of pinned) taskset(name === "elasticsearch" ? plan.esCores : plan.restCores, pid, name);
  const allowed = Object.fromEntries(pinned.map(([name, pid]) => [name, allowedCores(pid)]));
  return {
    plan,
    allowed,
    restore: () => {
      for (const [name, pid] of pinned) {
        try {
          taskset(plan.allCores, pid, name);
        } catch {
          // Gone (a server stopped meanwhile): nothing to give back.
        }
      }
    },
  };
}
