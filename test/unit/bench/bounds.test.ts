import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cpuBound, latencyBound, throughputBound } from "../../bench/bounds.ts";
import type { CpuShares } from "../../bench/proc.ts";

const shares = (machineCores: number, byProcess: Record<string, number>): CpuShares => ({ wallSeconds: 10, machineCores, byProcess });

describe("bench bounds", () => {
  it("calls a run on full cores CPU-bound and names who had them", () => {
    const line = throughputBound(shares(1.95, { elasticsearch: 1.7 }), shares(1.96, { elasticsearch: 1.4, worker: 0.4, kafka: 0.05 }), 2);
    assert.match(line, /^CPU: machine at 1\.96 of 2 cores/);
    assert.match(line, /ES 1\.40 cores \(ceiling phase 1\.70\), worker 0\.40, other processes 0\.11/);
  });

  it("calls a run with idle cores waiting", () => {
    const line = throughputBound(shares(1.9, { elasticsearch: 1.7 }), shares(1.5, { elasticsearch: 1.1, worker: 0.3 }), 2);
    assert.match(line, /^waiting: machine at 1\.50 of 2 cores, ES left idle/);
  });

  it("says not measured without CPU shares", () => {
    assert.equal(throughputBound(undefined, shares(1, {}), 2), "not measured");
    assert.equal(latencyBound(undefined, 0.1, shares(1, {}), 2), "not measured");
    assert.equal(cpuBound(2, undefined, undefined, 1000), "idle cost not measured");
  });

  it("splits CPU per 100k into the per-record part and the idle cost", () => {
    assert.equal(
      cpuBound(1.5, 1.1, 0.04, 10_000),
      "worker CPU: 1.10 s per 100k scale with records, 0.40 s is its idle cost (0.04 cores) spread over 10,000 rec/s",
    );
  });

  it("gives the latency's p50, bulk round-trip and machine", () => {
    const line = latencyBound(0.12, 0.08, shares(1.2, { elasticsearch: 0.7, worker: 0.2 }), 2);
    assert.equal(line, "waiting: p50 0.120 s, mean bulk round-trip 0.080 s; machine at 1.20 of 2 cores (ES 0.70, worker 0.20, other 0.30)");
  });
});
