/**
 * Two redrives at once for one group (issue 17, item 5). A redrive reads under
 * `<group>-redrive` up to the end offsets it saw at start and ends once every partition
 * got there; a second run at the same time would split the partitions with it, and
 * each would wait for ever for the partitions the other holds. The second run now
 * refuses at once with one line naming the group and the member that holds it; the
 * first one finishes. Elasticsearch answers 429 for a while (fault proxy) so that the
 * first run is still under way when the second starts.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { countDocuments } from "../support/elasticsearch.ts";
import { ES_NODE, waitFor } from "../support/env.ts";
import { faultProxyPort, startEsFaultProxy } from "../support/es-fault-proxy.ts";
import { runRedrive, summaryCount } from "../support/dead-letters.ts";
import { suiteFixture } from "../support/fixture.ts";
import { createTopics, describeGroup, produce, withAdmin } from "../support/kafka.ts";

const N = 200;
const PARTITIONS = 2;

describe("redrive: two runs at once for one group", () => {
  const { es, name, groupId } = suiteFixture("redrive-concurrent");
  const dlq = `${name}-dlq`;
  const source = `${name}-src`;

  test("the second refuses at once naming the group; the first redrives everything", async (t) => {
    await createTopics([dlq], PARTITIONS);
    await produce(dlq, N, (i) => ({
      value: JSON.stringify({ seq: i }),
      headers: { "source.topic": source, "source.partition": "0", "source.offset": String(i), "error.attempt": "1" },
    }), PARTITIONS);
    const proxy = await startEsFaultProxy({ target: ES_NODE, port: faultProxyPort(ES_NODE), seed: 5, phases: [{ durationMs: 20_000, requestStatus: 429 }] });
    after(() => proxy.close());
    const env = { KAFKA_GROUP_ID: groupId, DLQ_TOPIC: dlq, ES_NODE: proxy.url };

    const first = runRedrive(env, 240_000);
    await withAdmin((admin) => waitFor("the first redrive in its group", async () => ((await describeGroup(admin, `${groupId}-redrive`)).members.length > 0 ? true : undefined), 60_000, 250));
    const second = await runRedrive(env, 60_000);
    t.diagnostic(`second redrive (exit ${String(second.code)}): ${second.stderr.trim()}`);
    assert.equal(second.code, 1, "refused, not waiting");
    assert.match(second.stderr, /another redrive is running in consumer group "[^"]+-redrive" \(1 member\(s\): /);
    assert.equal(second.stderr.trim().split("\n").length, 1, "one line");

    const done = await first;
    assert.equal(done.code, 0, done.stderr);
    assert.equal(summaryCount(done.stdout, "redriven"), N);
    await es.indices.refresh({ index: source });
    assert.equal(await countDocuments(es, source), N);
  });
});
