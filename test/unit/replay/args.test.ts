import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseReplayArgs } from "../../../src/replay/args.ts";

const NOW = Date.UTC(2026, 10, 30, 8);

/** The one-line reason of a refusal (fails when the input was accepted). */
function reason(result: unknown): string {
  assert.equal(typeof result, "string", `expected a refusal, got ${JSON.stringify(result)}`);
  return result as string;
}

describe("replay arguments", () => {
  test("a fresh range: topics de-duplicated, times parsed, optional index and resume file", () => {
    assert.deepEqual(parseReplayArgs(["--topics", "a, b,a", "--from", "-2h", "--to", "now", "--index", "restored-{topic}", "--config", "x.json"], NOW), {
      kind: "fresh",
      topics: ["a", "b"],
      range: { from: NOW - 7_200_000, to: NOW },
      index: "restored-{topic}",
      resumeFile: undefined,
    });
    const withFile = parseReplayArgs(["--topics=a", "--from=2026-11-30", "--to=-1h", "--resume-file", "r.json"], NOW);
    assert.equal(typeof withFile === "object" && withFile.kind === "fresh" ? withFile.resumeFile : undefined, "r.json");
  });

  test("--resume alone; mixing it with a range is refused", () => {
    assert.deepEqual(parseReplayArgs(["--resume", "r.json"], NOW), { kind: "resume", resumeFile: "r.json" });
    assert.match(reason(parseReplayArgs(["--resume", "r.json", "--from", "-1h"], NOW)), /leave out --from/);
  });

  test("one-line reasons for bad input", () => {
    assert.match(reason(parseReplayArgs(["--topics", "a"], NOW)), /needs --topics, --from and --to/);
    assert.match(reason(parseReplayArgs(["--topics", "a b", "--from", "-1h", "--to", "now"], NOW)), /not a valid topic name/);
    assert.match(reason(parseReplayArgs(["--topics", "a", "--from", "later", "--to", "now"], NOW)), /^--from "later"/);
    assert.match(reason(parseReplayArgs(["--topics", "a", "--from", "-1h", "--to", "now", "--index", "Bad"], NOW)), /^--index "Bad": uppercase/);
    assert.match(reason(parseReplayArgs(["--topics", "a", "--from", "-1h", "--to", "now", "--bogus"], NOW)), /bogus/);
  });
});
