import { Writable } from "node:stream";
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { REDACTED, createLogger, type LogLevel } from "../../../src/telemetry/logger.ts";

function capture(level: LogLevel): { lines: () => Record<string, unknown>[]; logger: ReturnType<typeof createLogger> } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString("utf8"));
      done();
    },
  });
  // pino writes synchronously to a plain stream's write(): no flush needed.
  const logger = createLogger({ level, destination, base: { version: "9.9.9" } });
  const lines = (): Record<string, unknown>[] =>
    chunks.join("").split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as Record<string, unknown>);
  return { lines, logger };
}

describe("createLogger", () => {
  test("writes JSON lines with the service base fields and a readable level", () => {
    const { lines, logger } = capture("info");
    logger.info({ topic: "orders" }, "started");
    const [line] = lines();
    assert.ok(line !== undefined);
    assert.equal(line.service, "kafka-es-transfer");
    assert.equal(line.version, "9.9.9");
    assert.equal(line.level, "info");
    assert.equal(line.msg, "started");
    assert.equal(line.topic, "orders");
    assert.equal(typeof line.time, "string");
  });

  test("respects the configured level", () => {
    const { lines, logger } = capture("warn");
    logger.info("hidden");
    logger.debug("hidden");
    logger.warn("shown");
    assert.deepEqual(lines().map((l) => l.msg), ["shown"]);
  });

  test("redacts secret-looking keys at any of the first levels", () => {
    const { lines, logger } = capture("info");
    logger.info(
      {
        password: "p1",
        config: {
          elasticsearch: { auth: { apiKey: "k1", password: "p2" }, headers: { authorization: "Basic abc" } },
          kafka: { sasl: { mechanism: "plain", username: "u", password: "p3" }, brokers: ["b:9092"] },
        },
        token: "t1",
      },
      "config loaded",
    );
    const [line] = lines();
    const text = JSON.stringify(line);
    for (const secret of ["p1", "p2", "p3", "k1", "Basic abc", "t1"]) assert.ok(!text.includes(secret), `${secret} leaked`);
    assert.ok(text.includes(REDACTED));
    // Non-secret neighbours survive.
    assert.ok(text.includes("b:9092"));
  });

  test("serializes errors with message and stack", () => {
    const { lines, logger } = capture("info");
    logger.error({ err: new Error("kaput") }, "failed");
    const err = lines()[0]?.err as { message?: string; stack?: string } | undefined;
    assert.ok(err !== undefined);
    assert.equal(err.message, "kaput");
    assert.match(err.stack ?? "", /kaput/);
  });
});
