/**
 * Cluster fault: the broker leading most partitions of a busy topic killed (SIGKILL)
 * mid-stream (the workers busy with a backlog); it stays down past the controller's session
 * timeout (leaders move), then returns; then a second node is killed and returns, so
 * that the group coordinator most likely moved too. Two workers follow the leaders and
 * the coordinator; every record once, offsets never back.
 */
import { after, describe, test } from "node:test";
import { busiestLeader, killBroker, startAllBrokers, startBroker } from "../support/cluster.ts";
import { runClusterScenario } from "../support/cluster-scenario.ts";
import { sleep } from "../support/env.ts";
import { suiteFixture } from "../support/fixture.ts";

/** Longer than the brokers' session timeout (9 s): the controller fences the dead node and moves its leaders. */
const DOWN_MS = 12_000;

describe("cluster fault: partition leaders killed", () => {
  const { es, name: topic, groupId } = suiteFixture("cluster-leader-kill");
  after(() => startAllBrokers());

  test("the busiest leader killed mid-stream, then another node: every record once", async (t) => {
    await runClusterScenario(t, {
      es, topic, groupId,
      fault: async ({ produceWave }) => {
        const killed: string[] = [];
        for (let round = 0; round < 2; round++) {
          const node = await busiestLeader(topic);
          const at = Date.now();
          await killBroker(node);
          await sleep(DOWN_MS);
          await startBroker(node);
          killed.push(`node ${String(node)} killed ${String(Date.now() - at)} ms`);
          if (round === 0) await produceWave();
        }
        return killed.join(", ");
      },
    });
  });
});
