/**
 * Cluster fault: the broker leading most partitions frozen (SIGSTOP) for longer than
 * the client's request timeout and the brokers' session timeout, so the controller
 * fences it and moves its leaders while the workers' requests to it hang; then thawed.
 */
import { after, describe, test } from "node:test";
import { busiestLeader, freezeBroker, startAllBrokers, thawBroker, waitForFullIsr } from "../support/cluster.ts";
import { runClusterScenario } from "../support/cluster-scenario.ts";
import { sleep } from "../support/env.ts";
import { suiteFixture } from "../support/fixture.ts";

/** Past kafkajs' 30 s request timeout. */
const FROZEN_MS = 35_000;

describe("cluster fault: a broker frozen", () => {
  const { es, name: topic, groupId } = suiteFixture("cluster-frozen");
  after(() => startAllBrokers());

  test("the busiest leader frozen past the client's timeouts, then thawed: every record once", async (t) => {
    await runClusterScenario(t, {
      es, topic, groupId,
      fault: async () => {
        const node = await busiestLeader(topic);
        await freezeBroker(node);
        await sleep(FROZEN_MS);
        await thawBroker(node);
        await waitForFullIsr([topic]);
        return `node ${String(node)} frozen ${String(FROZEN_MS)} ms`;
      },
    });
  });
});
