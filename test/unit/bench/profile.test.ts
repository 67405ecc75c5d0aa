import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, test } from "node:test";
import { packageOf, profileMarkdown, summariseProfile } from "../../bench/profile.ts";

const frame = (functionName: string, url: string, lineNumber = 0) => ({ functionName, url, lineNumber, columnNumber: 0, scriptId: "0" });

describe("packageOf", () => {
  test("names packages, the project's files and V8's pseudo frames", () => {
    assert.equal(packageOf(frame("f", "file:///w/node_modules/kafkajs/src/x.js")), "kafkajs");
    assert.equal(packageOf(frame("f", "file:///w/node_modules/@elastic/transport/lib/x.js")), "@elastic/transport");
    assert.equal(packageOf(frame("f", "file:///w/src/sink/bulk-workers.ts")), "src/sink/bulk-workers.ts");
    assert.equal(packageOf(frame("f", "node:internal/streams/x")), "node:internal");
    assert.equal(packageOf(frame("(garbage collector)", "")), "(garbage collector)");
  });
});

describe("summariseProfile", () => {
  test("self time by function and package, inclusive time of src functions, idle apart", () => {
    // root -> loop (src) -> parse (native JSON.parse) ; root -> (idle) ; root -> (garbage collector)
    const profile = {
      nodes: [
        { id: 1, callFrame: frame("(root)", ""), children: [2, 4, 5] },
        { id: 2, callFrame: frame("loop", "file:///w/src/sink/bulk-workers.ts", 10), children: [3] },
        { id: 3, callFrame: frame("parse", "") },
        { id: 4, callFrame: frame("(idle)", "") },
        { id: 5, callFrame: frame("(garbage collector)", "") },
      ],
      samples: [2, 3, 3, 4, 5, 3],
      timeDeltas: [1000, 1000, 1000, 5000, 2000, 1000],
      startTime: 0,
      endTime: 11000,
    };
    const dir = mkdtempSync(path.join(os.tmpdir(), "kes-prof-"));
    const file = path.join(dir, "p.cpuprofile");
    writeFileSync(file, JSON.stringify(profile));
    const s = summariseProfile(file);
    assert.equal(s.busyMs, 6);
    assert.equal(s.idleMs, 5);
    assert.deepEqual(s.topSelf.map((e) => [e.name, e.ms]), [["parse", 3], ["(garbage collector)", 2], ["loop", 1]]);
    assert.deepEqual(s.topInclusiveSrc.map((e) => [e.name, e.where, e.ms]), [["loop", "src/sink/bulk-workers.ts:11", 4]]);
    assert.match(profileMarkdown(s), /Top functions by self time/);
  });
});
