/**
 * No process of ours prints kafkajs' "TimeoutNegativeWarning" (issue 16, item 9): every
 * Kafka client is made by newKafkaClient, which fixes kafkajs' request timer first (lint
 * refuses `new Kafka` elsewhere). Checked on real processes against the real broker:
 *
 * - the clients the tests, the demo and the bench make (test/support/kafka.ts): a child
 *   process creates a topic, produces, consumes and idles, with its warnings captured;
 * - the worker (`start`): its stderr, over a run that indexes records and stops.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { pathToFileURL } from "node:url";
import path from "node:path";
import { describe, test } from "node:test";
import { promisify } from "node:util";
import { ROOT } from "../support/env.ts";
import { suiteFixture } from "../support/fixture.ts";
import { createTopics, produce, waitForCommittedAtEnd } from "../support/kafka.ts";
import { WorkerProcess, withWorkers } from "../support/worker.ts";

const run = promisify(execFile);
const WARNING = /TimeoutNegativeWarning|is a negative number/;

/** What the child runs: the tests' own client through a produce, a consume and idle fetches. */
function probeScript(topic: string): string {
  const support = pathToFileURL(path.join(ROOT, "test/support/kafka.ts")).href;
  return `
const warnings = [];
process.on("warning", (w) => warnings.push(w.name + ": " + w.message));
const { createTopics, produce, testKafka } = await import(${JSON.stringify(support)});
await createTopics([${JSON.stringify(topic)}], 1);
await produce(${JSON.stringify(topic)}, 10, (i) => ({ value: String(i) }), 1);
const consumer = testKafka().consumer({ groupId: ${JSON.stringify(`${topic}-probe`)}, maxWaitTimeInMs: 200 });
await consumer.connect();
await consumer.subscribe({ topics: [${JSON.stringify(topic)}], fromBeginning: true });
let seen = 0;
await consumer.run({ eachMessage: async () => { seen += 1; } });
// Idle fetches after the records: the request queues' timers run all the while.
const until = Date.now() + 3000;
while (seen < 10 || Date.now() < until) await new Promise((r) => setTimeout(r, 100));
await consumer.disconnect();
process.stdout.write(JSON.stringify({ seen, warnings }));
`;
}

describe("kafkajs warnings", () => {
  const { name, groupId } = suiteFixture("client-warnings");

  test("the tests' (and demo's, bench's) Kafka clients print no TimeoutNegativeWarning", async () => {
    const topic = `${name}-probe`;
    const { stdout, stderr } = await run(process.execPath, ["--input-type=module", "-e", probeScript(topic)], {
      cwd: ROOT,
      timeout: 120_000,
      env: { ...process.env },
    });
    const result = JSON.parse(stdout) as { seen: number; warnings: string[] };
    assert.equal(result.seen, 10, "the probe consumed its records");
    assert.deepEqual(result.warnings.filter((w) => WARNING.test(w)), [], "no warning emitted");
    assert.doesNotMatch(stderr, WARNING, "nothing printed");
  });

  test("the worker prints no TimeoutNegativeWarning", async () => {
    let worker: WorkerProcess | undefined;
    await withWorkers(() => [worker], async () => {
      await createTopics([name], 2);
      const w = new WorkerProcess({ KAFKA_TOPICS: name, KAFKA_GROUP_ID: groupId }, ["start"], "warnings");
      worker = w;
      await w.ready();
      await produce(name, 200, (i) => ({ value: JSON.stringify({ i }) }), 2);
      await waitForCommittedAtEnd(groupId, [name], 60_000);
      assert.equal((await w.stop()).code, 0);
      assert.deepEqual(w.stderr.filter((line) => WARNING.test(line)), []);
    });
  });
});
