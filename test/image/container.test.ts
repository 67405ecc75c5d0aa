/**
 * The image as users run it: the container (built by `make image`) against the real
 * Kafka and Elasticsearch on loopback (host network). It indexes what it reads, answers
 * /metrics /healthz /readyz, runs as a non-root user on a read-only root file system,
 * its HEALTHCHECK is healthy on a non-default METRICS_PORT, and `podman stop` drains:
 * exit 0 with committed == indexed.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, describe, test } from "node:test";
import { countDocuments } from "../support/elasticsearch.ts";
import { BROKERS, ES_NODE, uniqueName, waitFor } from "../support/env.ts";
import { suiteFixture } from "../support/fixture.ts";
import { committedOffsets, createTopics, produce, withAdmin } from "../support/kafka.ts";
import { inspect, podman, podmanOk } from "../support/podman.ts";
import { metricSum } from "../support/worker.ts";

const IMAGE = process.env.KES_IMAGE ?? "localhost/kafka-es-transfer:local";
// Inside the caller's port range (the container shares the host network), never 9464.
const METRICS_PORT = Number(process.env.KES_IMAGE_METRICS_PORT ?? "14464");
const PARTITIONS = 3;
const FIRST = 3_000;
const SECOND = 30_000;
const DRAIN_MS = 30_000;

const metricsUrl = (pathname: string): string => `http://127.0.0.1:${String(METRICS_PORT)}${pathname}`;

/** The uid the container's main process runs as, read from the host's /proc (no user namespace). */
async function processUid(container: string): Promise<number> {
  const pid = await inspect(container, "{{.State.Pid}}");
  const uidLine = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("Uid:"));
  return Number(uidLine?.split(/\s+/)[1]);
}

describe("container image", { timeout: 600_000 }, () => {
  const { es, name: topic, groupId } = suiteFixture("image");
  const container = uniqueName("kes-image-smoke");
  after(async () => {
    const logs = await podman(["logs", "--tail", "30", container]);
    if (process.exitCode) process.stderr.write(`--- ${container} logs\n${logs.stdout}${logs.stderr}\n`);
    await podman(["rm", "--force", "--time", "0", container]);
  });

  test("the image keeps its HEALTHCHECK, runs as uid 1000 and holds no npm", async (t) => {
    const size = Number(await podmanOk(["image", "inspect", "--format", "{{.Size}}", IMAGE]));
    t.diagnostic(`image ${IMAGE}: ${(size / 1e6).toFixed(1)} MB`);
    const healthcheck = await podmanOk(["image", "inspect", "--format", "{{json .HealthCheck}}", IMAGE]);
    assert.match(healthcheck, /"healthcheck"/, `built with --format docker: ${healthcheck}`);
    assert.equal(await podmanOk(["image", "inspect", "--format", "{{.User}}", IMAGE]), "1000:1000");
    const npm = await podman(["run", "--rm", "--entrypoint", "sh", IMAGE, "-c", "command -v npm || ls /usr/local/lib/node_modules"]);
    assert.notEqual(npm.code, 0, `npm is in the final image: ${npm.stdout}`);
  });

  test("indexes, answers its probes, is healthy on METRICS_PORT, and `podman stop` drains with committed == indexed", async (t) => {
    await createTopics([topic], PARTITIONS);
    await produce(topic, FIRST, (i) => ({ value: JSON.stringify({ seq: i }) }), PARTITIONS);
    await podmanOk([
      "run", "--detach", "--name", container, "--network", "host", "--read-only",
      "--env", `KAFKA_BROKERS=${BROKERS.join(",")}`, "--env", `ES_NODE=${ES_NODE}`,
      "--env", `KAFKA_TOPICS=${topic}`, "--env", `KAFKA_GROUP_ID=${groupId}`,
      "--env", `METRICS_PORT=${String(METRICS_PORT)}`, "--env", "METRICS_HOST=127.0.0.1",
      "--env", `SHUTDOWN_TIMEOUT_MS=${String(DRAIN_MS)}`,
      // Small bulks and fetches (as in test/integration/shutdown.test.ts): the stop below
      // comes while records are still in flight.
      "--env", "BULK_WORKERS=1", "--env", "BULK_MAX_DOCUMENTS=200", "--env", "QUEUE_MAX_RECORDS=2000",
      "--env", "KAFKA_MAX_BYTES_PER_PARTITION=16384", "--env", "KAFKA_MAX_BYTES=65536",
      IMAGE,
    ]);
    await waitFor("the first records indexed", async () => (await countDocuments(es, topic)) === FIRST || undefined, 180_000, 500);

    for (const pathname of ["/healthz", "/readyz", "/metrics"]) {
      const response = await fetch(metricsUrl(pathname));
      assert.equal(response.status, 200, `${pathname} answers 200`);
    }
    const scrape = await (await fetch(metricsUrl("/metrics"))).text();
    assert.equal(metricSum(scrape, "kafka_es_transfer_records_indexed_total"), FIRST);

    assert.notEqual(await processUid(container), 0, "the worker is not root");
    const check = await podman(["healthcheck", "run", container]);
    t.diagnostic(`podman healthcheck run: exit ${String(check.code)} ${check.stdout.trim()} ${check.stderr.trim()}`);
    assert.equal(check.code, 0, "HEALTHCHECK passes on the non-default METRICS_PORT");
    assert.equal(await inspect(container, "{{.State.Health.Status}}"), "healthy");

    await produce(topic, SECOND, (i) => ({ value: JSON.stringify({ seq: FIRST + i }) }), PARTITIONS);
    await waitFor("the second batch under way", async () => (await countDocuments(es, topic)) > FIRST || undefined, 120_000, 100);
    const stoppedAt = Date.now();
    await podmanOk(["stop", "--time", String(DRAIN_MS / 1000 + 15), container], DRAIN_MS + 60_000);
    t.diagnostic(`podman stop took ${String(Date.now() - stoppedAt)} ms`);
    assert.equal(await inspect(container, "{{.State.ExitCode}}"), "0", "exit 0 after the drain (not SIGKILL)");
    const logs = (await podmanOk(["logs", container])).split("\n");
    assert.ok(logs.some((l) => l.includes('"msg":"stopped"')), "the worker logged its clean stop");

    const indexed = await countDocuments(es, topic);
    const committed = await withAdmin((admin) => committedOffsets(admin, groupId, topic));
    const committedSum = [...committed.values()].reduce((sum, o) => sum + (o < 0n ? 0n : o), 0n);
    t.diagnostic(`after podman stop: ${String(indexed)} indexed, ${String(committedSum)} committed of ${String(FIRST + SECOND)}`);
    assert.equal(Number(committedSum), indexed, "the final commit covers exactly what was indexed");
  });
});
