import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { runStopSteps, shutdownBudget } from "../../../src/compose/shutdown.ts";

function recorder(): { warnings: { fields: object; message: string }[]; warn(fields: object, message: string): void } {
  const warnings: { fields: object; message: string }[] = [];
  return { warnings, warn: (fields, message) => warnings.push({ fields, message }) };
}

const never = (): Promise<void> => new Promise<void>(() => undefined);

describe("shutdown budget", () => {
  test("the drain gets all but min(5 s, a third); the deadline is the whole budget", () => {
    assert.deepEqual(shutdownBudget(30_000, 1_000), { drainUntil: 26_000, deadline: 31_000 });
    assert.deepEqual(shutdownBudget(6_000, 0), { drainUntil: 4_000, deadline: 6_000 });
    assert.deepEqual(shutdownBudget(0, 5), { drainUntil: 5, deadline: 5 });
  });

  test("steps run in order; one that hangs is abandoned at the deadline and the rest are skipped", async () => {
    const ran: string[] = [];
    const logger = recorder();
    const started = Date.now();
    const unfinished = await runStopSteps([
      { name: "a", run: () => { ran.push("a"); return Promise.resolve(); } },
      { name: "hangs", run: () => { ran.push("hangs"); return never(); } },
      { name: "after", run: () => { ran.push("after"); return Promise.resolve(); } },
    ], started + 150, logger);
    assert.deepEqual(ran, ["a", "hangs"]);
    assert.deepEqual(unfinished, ["hangs", "after"]);
    assert.ok(Date.now() - started < 1_000, "returned at the deadline");
    assert.deepEqual(logger.warnings.map((w) => w.fields), [{ unfinished: ["hangs", "after"] }]);
  });

  test("a step that fails or throws is logged and the next one still runs; undefined is a finished step", async () => {
    const ran: string[] = [];
    const logger = recorder();
    const unfinished = await runStopSteps([
      { name: "rejects", run: () => Promise.reject(new Error("boom")) },
      { name: "throws", run: () => { throw new Error("sync"); } },
      { name: "nothing to do", run: () => undefined },
      { name: "commit", run: () => { ran.push("commit"); return Promise.resolve(); } },
    ], Date.now() + 5_000, logger);
    assert.deepEqual(unfinished, []);
    assert.deepEqual(ran, ["commit"]);
    assert.deepEqual(logger.warnings.map((w) => w.message), ["stop step failed", "stop step failed"]);
  });
});
