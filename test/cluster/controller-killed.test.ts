/**
 * Cluster fault: the active KRaft controller killed (SIGKILL) while two workers read a
 * backlog; the other two voters elect a new one, the killed node's leaders move; then
 * it returns.
 */
import { after, describe, test } from "node:test";
import { controllerLeader, killBroker, startAllBrokers, startBroker } from "../support/cluster.ts";
import { runClusterScenario } from "../support/cluster-scenario.ts";
import { sleep, waitFor } from "../support/env.ts";
import { suiteFixture } from "../support/fixture.ts";

const DOWN_MS = 12_000;

describe("cluster fault: the active controller killed", () => {
  const { es, name: topic, groupId } = suiteFixture("cluster-controller");
  after(() => startAllBrokers());

  test("the active controller killed, a new one elected: every record once", async (t) => {
    await runClusterScenario(t, {
      es, topic, groupId,
      fault: async () => {
        const node = await controllerLeader();
        await killBroker(node);
        const next = await waitFor("a new controller", async () => {
          const leader = await controllerLeader().catch(() => undefined);
          return leader !== undefined && leader !== node ? leader : undefined;
        }, 30_000, 500);
        await sleep(DOWN_MS);
        await startBroker(node);
        return `controller node ${String(node)} killed, node ${String(next)} took over; down ${String(DOWN_MS)} ms+`;
      },
    });
  });
});
