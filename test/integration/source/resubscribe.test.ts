/**
 * Issue 8, item 5: a topic-pattern subscription whose re-subscribe fails (a broker blip
 * as the new consumer starts) must neither kill the process nor leave the reader with
 * no consumer: it retries, says it is not ready meanwhile, and then consumes the new
 * topic. Real broker; the new consumer's connections are refused for a while.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { sleep, uniqueName, waitFor } from "../../support/env.ts";
import { createTopics, produce } from "../../support/kafka.ts";
import { Rigs } from "../../support/source-rig.ts";

void describe("source: a failed re-subscribe", () => {
  const rigs = new Rigs();
  after(() => rigs.stopAll());

  void test("item 5: is retried with backoff; not ready meanwhile; the new topic is consumed", async (t) => {
    const prefix = uniqueName("src-resub");
    const first = `${prefix}-a`;
    const second = `${prefix}-b`;
    await createTopics([first], 1);
    await produce(first, 10, (i) => ({ value: JSON.stringify({ seq: i }) }), 1);
    const rig = await rigs.start({
      groupId: `${prefix}-g`,
      pattern: new RegExp(`^${prefix}-.*$`),
      sink: "ack",
      commitIntervalMs: 300,
      topicRefreshIntervalMs: 1_000,
    });
    await waitFor("the first topic consumed", () => (rig.ackedOf(first).size === 10 ? true : undefined), 60_000, 100);

    // The broker refuses new connections while the reader re-subscribes to both topics.
    rig.faults.refuseConnections(true);
    await createTopics([second], 1);
    await produce(second, 10, (i) => ({ value: JSON.stringify({ seq: 100 + i }) }), 1);
    await waitFor("a failed consumer start", () => (rig.logs.some((l) => l.msg === "could not start the kafka consumer; retrying") ? true : undefined), 60_000, 100);
    await sleep(2_000);
    const failures = rig.logs.filter((l) => l.msg === "could not start the kafka consumer; retrying").length;
    t.diagnostic(`${String(failures)} failed starts while refused`);
    assert.equal(rig.reader.joined, false, "not ready while no consumer runs");

    rig.faults.refuseConnections(false);
    await waitFor("the reader to join again", () => (rig.reader.joined ? true : undefined), 60_000, 100);
    assert.deepEqual([...rig.reader.topics].sort(), [first, second]);
    await waitFor("the new topic's records", () => (rig.ackedOf(second).size === 10 ? true : undefined), 60_000, 100);
  });
});
