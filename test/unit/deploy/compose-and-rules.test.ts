/**
 * docker/docker-compose.yml against the Compose specification's schema (it cannot run
 * here: no Docker engine, no image pulls), with the services it promises; and the
 * Kubernetes PrometheusRule kept identical to its source, docker/prometheus/alerts.yml.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { composeErrors } from "../../deploy/compose-schema.ts";
import { ALERTS_FILE, PROMETHEUS_RULE_FILE, prometheusRuleYaml } from "../../deploy/prometheus-rule.ts";
import { field, fields, list } from "../../deploy/resources.ts";

const COMPOSE_FILE = fileURLToPath(new URL("../../../docker/docker-compose.yml", import.meta.url));
const SCRAPE_CONFIG = fileURLToPath(new URL("../../../docker/prometheus/prometheus.yml", import.meta.url));
// Compose reads YAML merge keys (`<<: *worker`); so must the check.
const compose = (): Record<string, unknown> => parse(readFileSync(COMPOSE_FILE, "utf8"), { merge: true }) as Record<string, unknown>;
const workerServices = (doc: unknown): string[] =>
  Object.entries(fields(doc, "services")).filter(([, s]) => field(s, "build", "dockerfile") === "docker/Dockerfile").map(([name]) => name);

describe("docker-compose.yml", () => {
  test("is valid against the Compose specification", () => {
    assert.deepEqual(composeErrors(compose()), []);
  });

  test("a misspelled key or a bad value fails the schema", () => {
    const doc = compose();
    const kafka = field(doc, "services", "kafka") as Record<string, unknown>;
    kafka.enviroment = kafka.environment;
    (field(doc, "services", "worker-1") as Record<string, unknown>).stop_grace_period = "45 seconds";
    const errors = composeErrors(doc).join("\n");
    assert.match(errors, /services\/kafka must NOT have additional properties: "enviroment"/);
    assert.match(errors, /stop_grace_period must match format "duration"/);
  });

  test("brings up Kafka, Elasticsearch, Kibana, Prometheus, Grafana and several workers, all scraped", () => {
    const doc = compose();
    const services = Object.keys(fields(doc, "services"));
    for (const name of ["kafka", "elasticsearch", "kibana", "prometheus", "grafana"]) assert.ok(services.includes(name), `${name} is a service`);
    const workers = workerServices(doc);
    assert.ok(workers.length >= 2, `several workers: ${workers.join(", ")}`);
    const scrape = parse(readFileSync(SCRAPE_CONFIG, "utf8")) as unknown;
    const targets = list(scrape, "scrape_configs").flatMap((job) => list(job, "static_configs").flatMap((c) => list(c, "targets")));
    assert.deepEqual(targets.sort(), workers.map((w) => `${w}:9464`).sort(), "prometheus.yml scrapes every worker");
    for (const worker of workers) {
      const drainMs = Number(field(doc, "services", worker, "environment", "SHUTDOWN_TIMEOUT_MS") ?? 30_000);
      const grace = /^(\d+)s$/.exec(String(field(doc, "services", worker, "stop_grace_period")));
      assert.ok(grace && Number(grace[1]) * 1000 > drainMs, `${worker}: stop_grace_period above SHUTDOWN_TIMEOUT_MS`);
    }
  });
});

describe("PrometheusRule", () => {
  test("docker/kubernetes/base/prometheus-rule.yaml is up to date with alerts.yml (run `make manifests`)", () => {
    assert.equal(readFileSync(PROMETHEUS_RULE_FILE, "utf8"), prometheusRuleYaml(readFileSync(ALERTS_FILE, "utf8")));
  });

  test("carries every alert of alerts.yml, expressions unchanged", () => {
    const source = parse(readFileSync(ALERTS_FILE, "utf8")) as unknown;
    const generated = parse(readFileSync(PROMETHEUS_RULE_FILE, "utf8")) as unknown;
    assert.deepEqual(field(generated, "spec", "groups"), field(source, "groups"));
  });
});
