import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConfigError } from "../../../src/errors.ts";
import type { DeadLetterRecord } from "../../../src/sink/dead-letter.ts";
import { createFailurePolicy } from "../../../src/sink/failure-policy.ts";
import { parsingRejection as rejection, recorder } from "./fixtures.ts";

const retry = { retryInitialMs: 10, retryMaxMs: 100 };
const noSleep = (): Promise<void> => Promise.resolve();

/** A writer that fails its first `failures` writes, then records what it was given. */
function writer(failures: number): { write(r: DeadLetterRecord): Promise<void>; written: DeadLetterRecord[]; tries: number } {
  const state = {
    written: [] as DeadLetterRecord[],
    tries: 0,
    write(r: DeadLetterRecord): Promise<void> {
      state.tries += 1;
      if (state.tries <= failures) return Promise.reject(new Error("UNKNOWN_TOPIC_OR_PARTITION"));
      state.written.push(r);
      return Promise.resolve();
    },
  };
  return state;
}

describe("failure policy: dlq", () => {
  test("acks only after the write was acknowledged, counting it as dead-lettered", async () => {
    const { observer, logger, recorded } = recorder();
    const w = writer(0);
    const policy = createFailurePolicy("dlq", { observer, logger, deadLetter: { writer: w, retry, now: () => 0 } });
    assert.equal(policy.name, "dlq");
    assert.deepEqual(await policy.handle(rejection, new AbortController().signal), { kind: "ack" });
    assert.equal(w.written.length, 1);
    assert.equal(w.written[0]?.headers["source.offset"], "42");
    assert.equal(recorded.count("documentRejected"), 1);
    assert.equal(recorded.count("deadLettered"), 1);
    assert.deepEqual(recorded.calls.find((c) => c.method === "recordsSettled")?.args, ["orders", "dead_lettered", 1]);
  });

  test("a failing dead-letter topic is retried with backoff, never skipped, and each failure reported", async () => {
    const { observer, logger, recorded } = recorder();
    const w = writer(5);
    const delays: number[] = [];
    const policy = createFailurePolicy("dlq", {
      observer,
      logger,
      deadLetter: { writer: w, retry, random: () => 1, sleep: (ms) => { delays.push(ms); return Promise.resolve(); } },
    });
    assert.deepEqual(await policy.handle(rejection, new AbortController().signal), { kind: "ack" });
    assert.equal(w.tries, 6);
    assert.equal(recorded.count("deadLetterFailed"), 5);
    assert.equal(recorded.count("deadLettered"), 1);
    assert.deepEqual(delays, [10, 20, 40, 80, 100], "doubling, capped at retryMaxMs");
    assert.ok(recorded.calls.some((c) => c.method === "log.error" && String(c.args[1]).includes("dead-letter write failed")));
  });

  test("shutdown interrupts the retries: the record is left unacked (redelivered later)", async () => {
    const { observer } = recorder();
    const abort = new AbortController();
    const w = writer(Number.POSITIVE_INFINITY);
    const policy = createFailurePolicy("dlq", {
      observer,
      deadLetter: { writer: w, retry, sleep: () => { if (w.tries >= 3) abort.abort(); return noSleep(); } },
    });
    assert.deepEqual(await policy.handle(rejection, abort.signal), { kind: "leave" });
    assert.equal(w.written.length, 0);
  });

  test("a write abandoned by shutdown (the producer fails it when the signal fires) leaves the record, no failure counted", async () => {
    const { observer, logger, recorded } = recorder();
    const abort = new AbortController();
    const abandoned = {
      write: (): Promise<void> => new Promise((_resolve, reject) => {
        abort.signal.addEventListener("abort", () => {
          reject(new Error("abandoned: stopping"));
        });
      }),
    };
    const policy = createFailurePolicy("dlq", { observer, logger, deadLetter: { writer: abandoned, retry, sleep: noSleep } });
    const verdict = policy.handle(rejection, abort.signal);
    abort.abort();
    assert.deepEqual(await verdict, { kind: "leave" });
    assert.equal(recorded.count("deadLetterFailed"), 0);
    assert.equal(recorded.count("log.error"), 0);
  });

  test("dlq without a writer is a configuration error", () => {
    assert.throws(() => createFailurePolicy("dlq"), ConfigError);
  });
});
