import assert from "node:assert/strict";
import { describe, test } from "node:test";
import pino from "pino";
import { installCrashGuard, rejectionHandler } from "../../../src/telemetry/crash-guard.ts";

const logger = pino({ level: "silent" });

void describe("crash guard", () => {
  void test("an unhandled rejection is logged as one fatal line and exits non-zero", () => {
    const codes: number[] = [];
    const lines: string[] = [];
    const capture = pino({ level: "info" }, { write: (line: string) => lines.push(line) });
    rejectionHandler(capture, (code) => codes.push(code))(new Error("boom"));
    assert.deepEqual(codes, [1]);
    assert.equal(lines.length, 1);
    assert.match(lines[0] ?? "", /"level":60.*"err":"boom".*unhandled promise rejection/);
    const remove = installCrashGuard(logger, () => undefined);
    assert.ok(process.listenerCount("unhandledRejection") >= 1);
    remove();
  });
});
