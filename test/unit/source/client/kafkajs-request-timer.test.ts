import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, test } from "node:test";
import { CHECK_PENDING_INTERVAL_MS, fixKafkajsRequestTimer, pendingCheckDelay } from "../../../../src/source/client/kafkajs-request-timer.ts";

interface Queue {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
  destroy(): void;
}

/** kafkajs' real RequestQueue, as its connections build it. */
function realQueue(): Queue {
  const RequestQueue = createRequire(import.meta.url)("kafkajs/src/network/requestQueue/index.js") as new (options: object) => Queue;
  const logger = { debug: () => undefined, warn: () => undefined, info: () => undefined, error: () => undefined };
  return new RequestQueue({ maxInFlightRequests: null, requestTimeout: 30_000, enforceRequestTimeout: false, clientId: "t", broker: "b:1", logger });
}

describe("kafkajs request queue timer", () => {
  test("no timer while nothing waits; the throttle's end or 10 ms while something does", () => {
    assert.equal(pendingCheckDelay(0, -1, 1_000), undefined);
    assert.equal(pendingCheckDelay(0, 5_000, 1_000), undefined);
    assert.equal(pendingCheckDelay(2, -1, 1_000), CHECK_PENDING_INTERVAL_MS);
    assert.equal(pendingCheckDelay(2, 1_250, 1_000), 250);
  });

  test("after the fix an empty queue arms no timer (kafkajs 2.2.4 arms a 1 ms one after every check)", () => {
    assert.equal(fixKafkajsRequestTimer(), true);
    const queue = realQueue();
    queue.checkPendingRequests();
    assert.equal(queue.throttleCheckTimeoutId, null);
    queue.destroy();
  });

  test("a throttled queue with a waiting request is still checked when the throttle ends", () => {
    fixKafkajsRequestTimer();
    const queue = realQueue();
    queue.throttledUntil = Date.now() + 60_000;
    queue.pending.push({});
    queue.checkPendingRequests();
    assert.notEqual(queue.throttleCheckTimeoutId, null, "a timer is armed");
    queue.destroy();
  });
});
