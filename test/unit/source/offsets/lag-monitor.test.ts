import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Admin } from "kafkajs";
import pino from "pino";
import { computeLag, LagMonitor } from "../../../../src/source/offsets/lag-monitor.ts";

describe("computeLag", () => {
  test("high watermark minus the committed offset", () => {
    assert.equal(computeLag(1000n, 0n, 400n), 600);
  });
  test("a group that never committed counts from where this member started, or from the log start when unknown", () => {
    assert.equal(computeLag(1000n, 100n, undefined), 900);
    // Never committed, started at the end (fromBeginning=false): only what came since counts.
    assert.equal(computeLag(1000n, 100n, undefined, 1000n), 0);
    assert.equal(computeLag(1000n, 100n, undefined, 600n), 400);
  });
  test("records deleted by retention before the group read them are not lag", () => {
    assert.equal(computeLag(1000n, 700n, 200n), 300);
  });
  test("never negative, even when the committed offset was read after a newer high watermark", () => {
    assert.equal(computeLag(500n, 0n, 510n), 0);
  });
  test("offsets beyond 2^53 stay exact", () => {
    assert.equal(computeLag(9007199254740995n, 0n, 9007199254740990n), 5);
  });
});

describe("LagMonitor.measure", () => {
  test("a topic whose end offsets fail (no leader) is left out; the other topics are measured", async () => {
    const admin = {
      fetchOffsets: ({ topics }: { topics: string[] }) => Promise.resolve(topics.map((topic) => ({ topic, partitions: [{ partition: 0, offset: "4" }] }))),
      fetchTopicOffsets: (topic: string) => topic === "lonely"
        ? Promise.reject(new Error("Broker -1 not found in the cached metadata"))
        : Promise.resolve([{ partition: 0, offset: "10", high: "10", low: "0" }]),
    } as unknown as Admin;
    const assignment = [{ topic: "flowing", partition: 0 }, { topic: "lonely", partition: 0 }];
    const monitor = new LagMonitor(() => admin, () => assignment, () => undefined, { groupId: "g", intervalMs: 1_000 }, pino({ level: "silent" }), () => undefined);
    const lags = await monitor.measure(admin, assignment);
    assert.deepEqual(lags.map((l) => [l.topic, l.lag]), [["flowing", 6]]);
    await assert.rejects(monitor.measure(admin, [{ topic: "lonely", partition: 0 }]), /no end offsets/);
  });
});
