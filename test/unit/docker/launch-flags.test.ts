// Every way the worker is launched must bound its memory the same way (issue 12): the
// CLI's shebang, `npm start`, the image and the test harness (which the demo and the
// benchmark use too). A flag dropped from one of them would go unnoticed until a pod
// grew past its limit.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { ROOT } from "../../support/env.ts";
import { SHIPPED_MALLOC_ENV, SHIPPED_NODE_FLAGS } from "../../support/worker.ts";
import { loadConfig } from "../../../src/config/load.ts";
import { ASSUMED_BROKERS, memorySettings } from "../../../src/compose/memory.ts";
import { heapLimitFromFlags, memoryPlan, oldSpaceFor } from "../../../src/shared/memory-model.ts";

const read = (file: string): string => readFileSync(path.join(ROOT, file), "utf8");

/** NAME=value words and --flags of a command line, whatever their order. */
function settingsOf(commandLine: string): { env: Record<string, string>; flags: string[] } {
  const env: Record<string, string> = {};
  const flags: string[] = [];
  for (const word of commandLine.split(/\s+/)) {
    const assignment = /^([A-Z_]+)=(.*)$/.exec(word);
    if (assignment?.[1] !== undefined) env[assignment[1]] = assignment[2] ?? "";
    else if (word.startsWith("--")) flags.push(word);
  }
  return { env, flags };
}

const expectedFlags = SHIPPED_NODE_FLAGS.split(" ");

describe("launch settings", () => {
  test("the harness ships a bounded old space and young generation", () => {
    assert.ok(expectedFlags.some((f) => /^--max-old-space-size=\d+$/.test(f)));
    assert.ok(expectedFlags.some((f) => /^--max-semi-space-size=\d+$/.test(f)));
  });

  test("the shipped old space is what the memory model derives for the default configuration, whatever the brokers", () => {
    const config = loadConfig({ argv: [], env: { KAFKA_TOPICS: "t" } });
    const shipped = Number(/^--max-old-space-size=(\d+)$/.exec(expectedFlags.find((f) => f.startsWith("--max-old-space-size=")) ?? "")?.[1]);
    for (const brokers of [1, ASSUMED_BROKERS, 6, 12]) {
      const settings = memorySettings(config, brokers);
      assert.equal(oldSpaceFor(settings), shipped, `${String(brokers)} broker(s)`);
      const plan = memoryPlan(settings, heapLimitFromFlags(expectedFlags) ?? 0);
      assert.equal(plan.fits, true);
      assert.equal(plan.fetchLoweredForHeap, false, "the default configuration's fetches are not lowered");
    }
  });

  test("the CLI's shebang passes the same V8 flags and allocator settings", () => {
    const shebang = read("src/main.ts").split("\n")[0] ?? "";
    assert.match(shebang, /^#!\/usr\/bin\/env -S /);
    const { env, flags } = settingsOf(shebang);
    assert.deepEqual(flags, expectedFlags);
    assert.deepEqual(env, SHIPPED_MALLOC_ENV);
  });

  test("npm start passes them too", () => {
    const scripts = (JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts;
    const { env, flags } = settingsOf(scripts.start ?? "");
    assert.deepEqual(flags, expectedFlags);
    assert.deepEqual(env, SHIPPED_MALLOC_ENV);
  });

  test("the image sets them in NODE_OPTIONS and ENV", () => {
    const dockerfile = read("docker/Dockerfile");
    const nodeOptions = /NODE_OPTIONS="([^"]*)"/.exec(dockerfile)?.[1] ?? "";
    assert.deepEqual(nodeOptions.split(" "), expectedFlags);
    for (const [name, value] of Object.entries(SHIPPED_MALLOC_ENV)) {
      assert.match(dockerfile, new RegExp(`^\\s+${name}=${value}\\b`, "m"), `${name} in the runtime ENV`);
    }
  });
});
