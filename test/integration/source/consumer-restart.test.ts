/**
 * Issue 8, items 1 and 2: what happens to back-pressure and to commits when kafkajs
 * gives up on a lost broker, crashes its consumer and builds a new one
 * (`restartOnFailure`). Real broker; the loss is injected into the client's sockets.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { sleep, uniqueName, waitFor } from "../../support/env.ts";
import { API } from "../../support/kafka-faults.ts";
import { committedOffsets, createTopics, endOffsets, produce, withAdmin } from "../../support/kafka.ts";
import { Rigs, type Rig } from "../../support/source-rig.ts";

const PARTITIONS = 3;
const MAX_RECORDS = 200;
/** One fetch brings at most 64 KiB (the rig's KAFKA_MAX_BYTES): about 290 of these records. */
const VALUE = (i: number): string => JSON.stringify({ seq: i, pad: "x".repeat(200) });
const ONE_FETCH = Math.ceil((64 * 1024) / VALUE(0).length);

const crashed = (rig: Rig): true | undefined =>
  rig.logs.some((l) => l.msg === "kafka consumer crashed; restarting it") ? true : undefined;

/** Takes the broker away until kafkajs crashes its consumer, then gives it back. */
async function crashAndRestart(rig: Rig): Promise<void> {
  rig.faults.refuseConnections(true);
  rig.faults.cutAll();
  await waitFor("kafkajs to crash its consumer", () => crashed(rig), 60_000, 100);
  rig.faults.refuseConnections(false);
  await waitFor("the restarted consumer to rejoin", () => (rig.reader.joined ? true : undefined), 60_000, 100);
}

void describe("source: kafkajs crashes and restarts its consumer", () => {
  const rigs = new Rigs();
  after(() => rigs.stopAll());

  void test("item 1: the queue bound holds through the restart (pauses re-applied)", async (t) => {
    const topic = uniqueName("src-restart-pause");
    await createTopics([topic], PARTITIONS);
    // Small producer requests: Kafka returns whole record batches, so one fetch is only
    // bounded by the fetch sizes if the record batches are small.
    await produce(topic, 3_000, (i) => ({ value: VALUE(i) }), PARTITIONS, 60);
    const rig = await rigs.start({ groupId: `${topic}-g`, topics: [topic], maxRecords: MAX_RECORDS, sink: "hold" });
    await waitFor("the queue to fill", () => (rig.queue.saturated ? true : undefined), 60_000, 100);
    await sleep(1_000);
    t.diagnostic(`before the crash: max outstanding ${String(rig.maxOutstanding())}`);

    await crashAndRestart(rig);
    // Give the restarted consumer time to fetch whatever it is allowed to.
    await sleep(4_000);
    const bound = MAX_RECORDS + ONE_FETCH;
    t.diagnostic(`max outstanding ${String(rig.maxOutstanding())}, now ${String(rig.queue.outstanding)}, bound ${String(bound)}`);
    assert.ok(rig.maxOutstanding() <= bound, `queue held ${String(rig.maxOutstanding())} records, bound ${String(bound)}`);

    // And the records do flow once the sink takes them.
    rig.setSink("ack");
    await waitFor("every record acknowledged", () => (new Set(rig.acked).size === 3_000 ? true : undefined), 120_000, 200);
  });

  void test("item 2: an offset acknowledged during the restart reaches the broker", async (t) => {
    const topic = uniqueName("src-restart-commit");
    await createTopics([topic], 1);
    await produce(topic, 50, (i) => ({ value: VALUE(i) }), 1);
    const groupId = `${topic}-g`;
    const rig = await rigs.start({ groupId, topics: [topic], sink: "hold", commitIntervalMs: 500 });
    await waitFor("all 50 records fetched", () => (rig.queue.outstanding === 50 ? true : undefined), 60_000, 100);

    // The broker goes; kafkajs restarts its consumer and its join is held: the runner
    // exists but does not run. The records are acknowledged in that window.
    const join = rig.faults.holdNext(API.JoinGroup);
    rig.faults.refuseConnections(true);
    rig.faults.cutAll();
    await waitFor("kafkajs to crash its consumer", () => crashed(rig), 60_000, 100);
    rig.faults.refuseConnections(false);
    await join.seen;
    rig.setSink("ack");
    await rig.reader.commitNow();
    await sleep(1_500); // a few commit ticks inside the window
    join.release();

    const end = (await endOffsets(topic)).get(0);
    const committed = await waitFor(
      "the acknowledged offset committed on the broker",
      async () => {
        const done = (await withAdmin((admin) => committedOffsets(admin, groupId, topic))).get(0);
        return done === end ? done : undefined;
      },
      20_000,
      250,
    ).catch(async (error: unknown) => {
      const done = (await withAdmin((admin) => committedOffsets(admin, groupId, topic))).get(0);
      t.diagnostic(`committed ${String(done)} / end ${String(end)}`);
      throw error;
    });
    assert.equal(committed, end);
  });
});
