import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { busyGroupMessage, missingPartitions, pendingRanges, plannedRecords, progressLine, RedriveTally, redrivePlan, summaryText } from "../../../src/redrive/plan.ts";
import { boundBatch } from "../../../src/source/consumer/record-conversion.ts";

describe("redrive plan", () => {
  test("reads from the group's offset (or the log start) to the end seen at start", () => {
    const plan = redrivePlan(
      [
        { partition: 1, low: "0", high: "10" },
        { partition: 0, low: "5", high: "20" },
        { partition: 2, low: "0", high: "4" },
      ],
      new Map([[1, "10"], [0, "-1"], [2, "2"]]),
    );
    assert.deepEqual(plan, [
      { partition: 0, start: 5n, end: 20n },
      { partition: 1, start: 10n, end: 10n },
      { partition: 2, start: 2n, end: 4n },
    ]);
    assert.equal(plannedRecords(plan), 17);
    assert.deepEqual(pendingRanges(plan).map((r) => r.partition), [0, 2]);
    // A committed offset below the log start (retention) starts at the log start.
    assert.deepEqual(redrivePlan([{ partition: 0, low: "50", high: "60" }], new Map([[0, "3"]])), [{ partition: 0, start: 50n, end: 60n }]);
  });

  test("progress and summary", () => {
    assert.equal(progressLine(1200, 5000, 3000), "redrive: 1200/5000 (24%), 400 records/s, 3800 left");
    const tally = new RedriveTally();
    tally.indexed(new Map([["b", 2], ["a", 3]]));
    tally.failedAgain = 1;
    tally.skip("no source.* headers");
    const text = summaryText(tally, { topic: "dlq", groupId: "g-redrive", elapsedMs: 1500 });
    assert.match(text, /^redrive of dead-letter topic "dlq" \(consumer group "g-redrive"\) done in 1\.5 s$/m);
    assert.match(text, /^ {2}redriven: {5}5$/m);
    assert.match(text, /^ {2}failed again: 1 \(back in "dlq" with error\.attempt \+ 1\)$/m);
    assert.match(text, /^ {2}skipped \(no source\.\* headers\): 1$/m);
    assert.match(text, /per index:\n {4}a {2}3\n {4}b {2}2$/);
  });

  test("boundBatch keeps what lies below the end offset", () => {
    const messages = ["5", "6", "8", "9"].map((offset) => ({ offset }));
    assert.deepEqual(boundBatch(messages, "5", "9", 8n), { messages: [{ offset: "5" }, { offset: "6" }], lastOffset: "7" });
    assert.deepEqual(boundBatch(messages, "5", "9", 100n), { messages, lastOffset: "9" });
    assert.equal(boundBatch(messages, "5", "9", 5n), undefined);
  });

  test("a second run refuses with one line naming the group and who holds it", () => {
    const line = busyGroupMessage("logs-redrive", [{ clientId: "kafka-es-transfer", clientHost: "/10.0.0.7" }]);
    assert.match(line, /^another redrive is running in consumer group "logs-redrive" \(1 member\(s\): kafka-es-transfer on 10\.0\.0\.7\)/);
    assert.doesNotMatch(line, /\n/);
  });

  test("the planned partitions another member holds", () => {
    const plan = [{ partition: 0, start: 0n, end: 5n }, { partition: 1, start: 0n, end: 5n }, { partition: 2, start: 3n, end: 9n }];
    assert.deepEqual(missingPartitions(plan, [0, 1, 2]), []);
    assert.deepEqual(missingPartitions(plan, [1]), [0, 2]);
  });
});
