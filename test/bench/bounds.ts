/**
 * What bounded each of issue 12's figures, said in one line from the bench's own
 * measurements (pure: unit-tested in test/unit/bench/bounds.test.ts). On a machine
 * shared by Kafka, Elasticsearch and the worker, a throughput ratio below 1 has two
 * kinds of cause: the cores were full (then every CPU second the worker or another
 * process took was one Elasticsearch did not get), or they were not (then records
 * were waiting somewhere, and Elasticsearch sat idle part of the time).
 */
import type { CpuShares } from "./proc.ts";

/** A phase's machine counts as CPU-bound above this share of its cores. */
export const SATURATED_SHARE = 0.9;

const f2 = (n: number): string => n.toFixed(2);

function others(cpu: CpuShares): number {
  const named = Object.values(cpu.byProcess).reduce((a, c) => a + c, 0);
  return Math.max(0, cpu.machineCores - named);
}

/** Why the worker's rate differs from the Elasticsearch ceiling's. */
export function throughputBound(ceiling: CpuShares | undefined, worker: CpuShares | undefined, cores: number): string {
  if (ceiling === undefined || worker === undefined) return "not measured";
  const esCeiling = ceiling.byProcess.elasticsearch ?? 0;
  const esWorker = worker.byProcess.elasticsearch ?? 0;
  const workerCores = worker.byProcess.worker ?? 0;
  const share = `ES ${f2(esWorker)} cores (ceiling phase ${f2(esCeiling)}), worker ${f2(workerCores)}, other processes ${f2(others(worker))}`;
  if (worker.machineCores >= SATURATED_SHARE * cores) {
    return `CPU: machine at ${f2(worker.machineCores)} of ${String(cores)} cores; ${share}`;
  }
  return `waiting: machine at ${f2(worker.machineCores)} of ${String(cores)} cores, ES left idle part of the time; ${share}`;
}

/** How much of the CPU per 100k records is the fixed per-second cost of a running worker. */
export function cpuBound(cpuPer100k: number, perRecordPart: number | undefined, idleCores: number | undefined, recordsPerSecond: number): string {
  if (idleCores === undefined || perRecordPart === undefined) return "idle cost not measured";
  const fixed = Math.max(0, cpuPer100k - perRecordPart);
  return `worker CPU: ${f2(perRecordPart)} s per 100k scale with records, ${f2(fixed)} s is its idle cost (${f2(idleCores)} cores) spread over ${Math.round(recordsPerSecond).toLocaleString("en-US")} rec/s`;
}

/** What the records of the latency run waited for. */
export function latencyBound(p50Seconds: number | undefined, meanBulkSeconds: number | undefined, run: CpuShares | undefined, cores: number): string {
  if (run === undefined || p50Seconds === undefined) return "not measured";
  const bulk = meanBulkSeconds === undefined ? "" : `, mean bulk round-trip ${meanBulkSeconds.toFixed(3)} s`;
  const machine = `machine at ${f2(run.machineCores)} of ${String(cores)} cores (ES ${f2(run.byProcess.elasticsearch ?? 0)}, worker ${f2(run.byProcess.worker ?? 0)}, other ${f2(others(run))})`;
  const kind = run.machineCores >= SATURATED_SHARE * cores ? "CPU" : "waiting";
  return `${kind}: p50 ${p50Seconds.toFixed(3)} s${bulk}; ${machine}`;
}
