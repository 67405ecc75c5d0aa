import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseResumeState, serializeResumeState, type ResumeState } from "../../../src/replay/resume-state.ts";

const state: ResumeState = {
  topics: ["orders", "payments"],
  range: { from: Date.UTC(2026, 10, 30, 6), to: Date.UTC(2026, 10, 30, 8) },
  index: "restored-{topic}",
  partitions: [
    { topic: "orders", partition: 0, start: "10", end: "900", next: "450" },
    { topic: "payments", partition: 3, start: "0", end: "18446744073709551615", next: "0" },
  ],
};

/** The one-line reason of a refusal (fails when the input was accepted). */
function reason(result: unknown): string {
  assert.equal(typeof result, "string", `expected a refusal, got ${JSON.stringify(result)}`);
  return result as string;
}

describe("resume state", () => {
  test("round-trips, offsets beyond 2^53 included, with readable times", () => {
    const text = serializeResumeState(state);
    assert.deepEqual(parseResumeState(text), state);
    assert.match(text, /"from": "2026-11-30T06:00:00.000Z"/);
  });

  test("what retention deleted round-trips, so that a resumed run does not end complete", () => {
    const lost = { ...state, lost: ["t[0]: offsets 10-79 (70)"] };
    assert.deepEqual(parseResumeState(serializeResumeState(lost)), lost);
    assert.equal(serializeResumeState(state).includes('"lost"'), false);
    assert.equal(parseResumeState(serializeResumeState(lost).replace('"t[0]: offsets 10-79 (70)"', "7")), "lost must be a list of strings");
  });

  test("no --index override round-trips as undefined", () => {
    const plain = { ...state, index: undefined };
    assert.deepEqual(parseResumeState(serializeResumeState(plain)), plain);
  });

  test("refuses damaged or foreign files with a reason", () => {
    const good = JSON.parse(serializeResumeState(state)) as Record<string, unknown>;
    const cases: [unknown, RegExp][] = [
      [{ ...good, version: 2 }, /version must be 1/],
      [{ ...good, topics: [] }, /topics/],
      [{ ...good, fromMs: good.toMs }, /fromMs < toMs/],
      [{ ...good, index: 3 }, /index/],
      [{ ...good, partitions: [{ topic: "a", partition: 0, start: "5", end: "9", next: "10" }] }, /start <= next <= end/],
      [{ ...good, partitions: [{ topic: "a", partition: -1, start: "0", end: "0", next: "0" }] }, /partition/],
      [{ ...good, partitions: [{ topic: "a", partition: 0, start: 0, end: "0", next: "0" }] }, /start must be a decimal/],
      [[1, 2], /not a JSON object/],
    ];
    for (const [doc, why] of cases) assert.match(reason(parseResumeState(JSON.stringify(doc))), why);
    assert.equal(parseResumeState("{"), "not valid JSON");
  });
});
