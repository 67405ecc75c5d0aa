import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { esBusy, waitingLegend, waitingOn, waitingSummary } from "../../bench/es-busy.ts";
import type { Sample } from "../../bench/worker-run.ts";

const sample = (t: number, esCores: number | undefined, rest: Partial<Sample> = {}): Sample => ({
  t, indexed: 0, rate: 0, lag: 0, queue: 5_000, cpuSeconds: 0, rssBytes: 0,
  heapUsedBytes: undefined, heapTotalBytes: undefined, externalBytes: undefined,
  inFlight: 2, limit: 4, paused: 0, esCores, ...rest,
});

describe("what the worker waited on while Elasticsearch was idle", () => {
  test("one cause per second, paused and the limit first", () => {
    assert.equal(waitingOn(sample(1, 0, { paused: 3, queue: 10 }), 100), "paused");
    assert.equal(waitingOn(sample(1, 0, { inFlight: 4, limit: 4 }), 100), "limit");
    assert.equal(waitingOn(sample(1, 0, { queue: 10 }), 100), "source");
    assert.equal(waitingOn(sample(1, 0, { inFlight: 0 }), 100), "queue");
    assert.equal(waitingOn(sample(1, 0), 100), "requests");
  });

  test("busy share over the sampled seconds; idle seconds counted by cause", () => {
    const samples = [
      sample(0, undefined), // before the assignment: left out
      sample(1, 1.0),
      sample(2, 0.9),
      sample(3, 0.2, { queue: 0 }),
      sample(4, 0.5, { inFlight: 4, limit: 4 }),
    ];
    const busy = esBusy(samples, 1, 100);
    assert.ok(busy !== undefined);
    assert.equal(busy.seconds, 4);
    assert.equal(busy.idleSeconds, 2);
    assert.deepEqual(busy.waiting, { limit: 1, requests: 0, queue: 0, source: 1, paused: 0 });
    assert.ok(Math.abs(busy.busyShare - 0.65) < 1e-9);
    assert.deepEqual(busy.idleMeans, { inFlight: 3, limit: 4, queue: 2_500, paused: 0 });
    assert.equal(waitingSummary(busy), "65 % busy (0.65 cores); 2 of 4 s idle: waiting on limit 1 s, source 1 s");
    assert.equal(waitingLegend([busy]).length, 2);
  });

  test("no Elasticsearch figure: not measured", () => {
    assert.equal(esBusy([sample(0, undefined), sample(1, undefined)], 1, 100), undefined);
    assert.equal(waitingSummary(undefined), "not measured");
  });
});
