import { request } from "node:http";
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createMetrics } from "../../../src/telemetry/metrics.ts";
import { TelemetryServer } from "../../../src/telemetry/http-server.ts";
import type { ProbeResult } from "../../../src/telemetry/probe.ts";

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function call(port: number, path: string, method = "GET"): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") });
      });
    });
    req.on("error", reject);
    req.end();
  });
}

describe("TelemetryServer", () => {
  const metrics = createMetrics({ defaultMetrics: false, version: "0.0.1" });
  let health: ProbeResult = { ok: true };
  let readiness: () => ProbeResult | Promise<ProbeResult> = () => ({ ok: true });
  const errors: unknown[] = [];
  const server = new TelemetryServer({
    host: "127.0.0.1",
    port: 0,
    metrics,
    health: () => health,
    readiness: () => readiness(),
    onError: (error) => errors.push(error),
  });
  let port = 0;

  before(async () => {
    ({ port } = await server.start());
  });
  after(async () => {
    await server.close();
  });

  test("binds an ephemeral port on loopback and exposes it", () => {
    assert.ok(port > 0);
    assert.equal(server.port, port);
  });

  test("GET /metrics serves the registry with its content type", async () => {
    metrics.recordsConsumed("orders", 3);
    const reply = await call(port, "/metrics");
    assert.equal(reply.status, 200);
    assert.equal(reply.headers["content-type"], metrics.contentType);
    assert.match(reply.body, /kafka_es_transfer_records_consumed_total\{topic="orders"\} 3/);
    assert.equal((await call(port, "/metrics?debug=1")).status, 200);
  });

  test("GET /healthz: 200 ok, or 503 with the reason", async () => {
    health = { ok: true };
    let reply = await call(port, "/healthz");
    assert.equal(reply.status, 200);
    assert.match(String(reply.headers["content-type"]), /^application\/json/);
    assert.deepEqual(JSON.parse(reply.body), { status: "ok" });

    health = { ok: false, reason: 'loop "fetch" has not run for 45s', details: { loopSecondsSinceBeat: { fetch: 45 } } };
    reply = await call(port, "/healthz");
    assert.equal(reply.status, 503);
    assert.deepEqual(JSON.parse(reply.body), {
      status: "unhealthy",
      reason: 'loop "fetch" has not run for 45s',
      details: { loopSecondsSinceBeat: { fetch: 45 } },
    });
  });

  test("GET /readyz: 200 when ready, 503 with reasons otherwise, async and throwing callbacks", async () => {
    readiness = () => ({ ok: true });
    let reply = await call(port, "/readyz");
    assert.equal(reply.status, 200);
    assert.deepEqual(JSON.parse(reply.body), { status: "ready" });

    readiness = () =>
      Promise.resolve({
        ok: false,
        reason: "not a member of the consumer group",
        reasons: ["not a member of the consumer group", "Elasticsearch unreachable"],
      });
    reply = await call(port, "/readyz");
    assert.equal(reply.status, 503);
    assert.deepEqual(JSON.parse(reply.body), {
      status: "not_ready",
      reason: "not a member of the consumer group",
      reasons: ["not a member of the consumer group", "Elasticsearch unreachable"],
    });

    readiness = () => {
      throw new Error("probe exploded");
    };
    reply = await call(port, "/readyz");
    assert.equal(reply.status, 503);
    assert.deepEqual(JSON.parse(reply.body), { status: "not_ready", reason: "probe exploded" });
  });

  test("unknown paths are 404, other methods 405, HEAD has no body", async () => {
    let reply = await call(port, "/nope");
    assert.equal(reply.status, 404);
    assert.deepEqual(JSON.parse(reply.body), { status: "not_found" });
    reply = await call(port, "/metrics", "POST");
    assert.equal(reply.status, 405);
    assert.equal(reply.headers.allow, "GET, HEAD");
    health = { ok: true };
    reply = await call(port, "/healthz", "HEAD");
    assert.equal(reply.status, 200);
    assert.equal(reply.body, "");
  });

  test("a scrape that throws answers 500 and is reported", async () => {
    const failing = new TelemetryServer({
      host: "127.0.0.1",
      port: 0,
      metrics: { contentType: "text/plain", scrape: () => Promise.reject(new Error("registry broke")) },
      health: () => ({ ok: true }),
      readiness: () => ({ ok: true }),
      onError: (error) => errors.push(error),
    });
    const { port: other } = await failing.start();
    try {
      const reply = await call(other, "/metrics");
      assert.equal(reply.status, 500);
      assert.ok(errors.some((e) => e instanceof Error && e.message === "registry broke"));
    } finally {
      await failing.close();
    }
  });

  test("start fails when the port is taken; close is idempotent", async () => {
    const clash = new TelemetryServer({
      host: "127.0.0.1",
      port,
      metrics,
      health: () => ({ ok: true }),
      readiness: () => ({ ok: true }),
    });
    await assert.rejects(clash.start(), /EADDRINUSE/);
    await clash.close();
    await clash.close();
  });
});
