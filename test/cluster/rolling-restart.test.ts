/**
 * Cluster fault: a rolling restart of all three brokers, one after the other (SIGTERM,
 * start, wait until every replica is back in sync before the next), as an upgrade does,
 * while two workers read a backlog. Leaders and the group coordinator move three times.
 */
import { after, describe, test } from "node:test";
import { NODES, startAllBrokers, startBroker, stopBroker, waitForFullIsr } from "../support/cluster.ts";
import { runClusterScenario } from "../support/cluster-scenario.ts";
import { suiteFixture } from "../support/fixture.ts";

describe("cluster fault: rolling restart", () => {
  const { es, name: topic, groupId } = suiteFixture("cluster-rolling");
  after(() => startAllBrokers());

  test("each broker restarted in turn: every record once", async (t) => {
    await runClusterScenario(t, {
      es, topic, groupId,
      fault: async () => {
        const steps: string[] = [];
        for (const node of NODES) {
          const at = Date.now();
          await stopBroker(node);
          await startBroker(node);
          await waitForFullIsr([topic, "__consumer_offsets"]);
          steps.push(`node ${String(node)} ${String(Date.now() - at)} ms`);
        }
        return `rolling restart (${steps.join(", ")})`;
      },
    });
  });
});
