import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { HEAP_GROWING_PERCENT, paceCollector } from "../../../src/compose/memory.ts";

test("paceCollector sets the growing factor unless node was started with one", () => {
  assert.equal(paceCollector(["--max-old-space-size=96"]), HEAP_GROWING_PERCENT);
  assert.equal(paceCollector(["--heap-growing-percent=50"]), undefined);
  assert.equal(paceCollector(["--heap_growing_percent=50"]), undefined);
});

test("the growing factor takes effect at run time: fewer full collections for the same garbage", () => {
  // A live set kept at ~24 MiB while old objects are replaced: counts the mark-compacts
  // V8 runs under a 96 MiB old space, without and with paceCollector's setting.
  const script = `
    import { setFlagsFromString } from "node:v8";
    import { PerformanceObserver, constants } from "node:perf_hooks";
    if (process.argv[1] === "paced") setFlagsFromString("--heap-growing-percent=${String(HEAP_GROWING_PERCENT)}");
    let majors = 0;
    new PerformanceObserver((list) => { for (const e of list.getEntries()) if (e.detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majors++; }).observe({ entryTypes: ["gc"] });
    const live = new Array(200_000);
    for (let i = 0; i < 3_000_000; i++) live[i % live.length] = { i, text: "x" + i, pad: [i, i, i] };
    setTimeout(() => console.log(majors), 50);
  `;
  const majors = (mode: string): number => {
    const run = spawnSync(process.execPath, ["--max-semi-space-size=1", "--max-old-space-size=96", "--input-type=module", "-e", script, mode], { encoding: "utf8" });
    assert.equal(run.status, 0, run.stderr);
    return Number(run.stdout.trim());
  };
  const v8Default = majors("default");
  const paced = majors("paced");
  process.stdout.write(`# mark-compacts ${String(v8Default)} -> ${String(paced)}\n`);
  assert.ok(paced < v8Default, `mark-compacts: ${String(paced)} paced vs ${String(v8Default)} under V8's default`);
});
