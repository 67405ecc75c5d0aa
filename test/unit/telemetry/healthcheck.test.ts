import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { healthcheckUrl, runHealthcheck } from "../../../src/telemetry/healthcheck.ts";

describe("healthcheckUrl", () => {
  it("probes loopback when the server binds every address", () => {
    assert.equal(healthcheckUrl("0.0.0.0", 14464), "http://127.0.0.1:14464/healthz");
    assert.equal(healthcheckUrl("::", 9464), "http://127.0.0.1:9464/healthz");
  });
  it("probes a specific address itself, bracketing IPv6", () => {
    assert.equal(healthcheckUrl("10.0.0.5", 9000), "http://10.0.0.5:9000/healthz");
    assert.equal(healthcheckUrl("::1", 9000), "http://[::1]:9000/healthz");
  });
});

describe("runHealthcheck", () => {
  let server: Server;
  let port = 0;
  let status = 200;
  before(async () => {
    server = createServer((_req, res) => { res.writeHead(status).end(`{"ok":${String(status === 200)}}`); });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => { server.close(); });

  it("is healthy on a 200 from /healthz", async () => {
    status = 200;
    const outcome = await runHealthcheck("0.0.0.0", port);
    assert.equal(outcome.healthy, true, outcome.message);
  });
  it("is unhealthy on a 503, and says what answered", async () => {
    status = 503;
    const outcome = await runHealthcheck("127.0.0.1", port);
    assert.equal(outcome.healthy, false);
    assert.match(outcome.message, /503/);
  });
  it("is unhealthy when nothing listens on the port", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const free = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => { resolve(); }));
    const outcome = await runHealthcheck("127.0.0.1", free);
    assert.equal(outcome.healthy, false);
    assert.match(outcome.message, /unreachable/);
  });
  it("refuses port 0 with a line naming the setting", async () => {
    const outcome = await runHealthcheck("0.0.0.0", 0);
    assert.equal(outcome.healthy, false);
    assert.match(outcome.message, /METRICS_PORT/);
  });
});
