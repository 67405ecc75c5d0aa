/**
 * docker/kubernetes rendered offline (`kubectl kustomize`) and validated without a
 * cluster: schemas (kubernetes-models, KEDA, Prometheus Operator), then the checks no
 * schema makes. Each check is also shown to fail on a manifest broken on purpose.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { configurationErrors, portErrors, selectorErrors } from "../../deploy/cross-references.ts";
import { triggerErrors } from "../../deploy/keda-triggers.ts";
import { cloneResources, field, kindsOf, renderKustomization, type Fields, type Resource } from "../../deploy/resources.ts";
import { podMonitorJobErrors, scaledObjectErrors } from "../../deploy/scaling.ts";
import { schemaErrors } from "../../deploy/schemas.ts";
import { strictSchemaErrors } from "../../deploy/strict-schemas.ts";
import { workloadErrors } from "../../deploy/workload.ts";

const KINDS = ["ConfigMap", "Deployment", "PodDisruptionBudget", "PodMonitor", "PrometheusRule", "ScaledObject", "Secret", "Service"];
const OVERLAYS = ["overlays/example", "overlays/example-prometheus-lag"];

const allErrors = (resources: readonly Resource[]): string[] => [
  ...schemaErrors(resources), ...strictSchemaErrors(resources), ...selectorErrors(resources), ...portErrors(resources), ...configurationErrors(resources),
  ...workloadErrors(resources), ...scaledObjectErrors(resources), ...podMonitorJobErrors(resources),
];

/** The first resource of `kind`, for a test to break. */
function first(resources: Resource[], kind: string): Fields & Record<string, unknown> {
  const found = resources.find((r) => r.kind === kind);
  assert.ok(found, `a ${kind} is rendered`);
  return found;
}
const at = (value: unknown, ...path: string[]): Record<string, unknown> => field(value, ...path) as Record<string, unknown>;

describe("kubernetes manifests", () => {
  const rendered = new Map<string, Resource[]>();
  before(async () => {
    for (const dir of ["base", ...OVERLAYS]) rendered.set(dir, await renderKustomization(dir));
  });
  const example = (): Resource[] => cloneResources(rendered.get("overlays/example") ?? []);

  test("the base renders and every resource fits its schema", (t) => {
    const base = rendered.get("base") ?? [];
    t.diagnostic(`base: ${kindsOf(base).join(", ")}`);
    assert.deepEqual([...schemaErrors(base), ...strictSchemaErrors(base)], []);
  });

  for (const overlay of OVERLAYS) {
    test(`${overlay}: every kind, valid and consistent`, (t) => {
      const resources = rendered.get(overlay) ?? [];
      t.diagnostic(`${overlay}: ${kindsOf(resources).join(", ")}`);
      assert.deepEqual([...new Set(kindsOf(resources))], KINDS);
      assert.deepEqual(allErrors(resources), []);
    });
  }

  test("the alternative overlay scales on the workers' consumer_lag through Prometheus", () => {
    const so = first(cloneResources(rendered.get("overlays/example-prometheus-lag") ?? []), "ScaledObject");
    const triggers = field(so, "spec", "triggers") as Fields[];
    assert.deepEqual(triggers.map((tr) => tr.type), ["prometheus"]);
  });

  test("a schema error is caught (a string where an integer belongs)", () => {
    const resources = example();
    at(first(resources, "Deployment"), "spec").replicas = "two";
    assert.match(schemaErrors(resources).join("\n"), /replicas must be integer/);
  });

  test("a misspelled field fails the strict Kubernetes schema, which the npm models let through", () => {
    const resources = example();
    const container = (field(first(resources, "Deployment"), "spec", "template", "spec", "containers") as Record<string, unknown>[])[0] ?? {};
    at(container, "securityContext").readOnlyRootFileSystem = true;
    at(first(resources, "Service"), "spec").selecter = {};
    assert.deepEqual(schemaErrors(resources), []);
    const errors = strictSchemaErrors(resources).join("\n");
    assert.match(errors, /securityContext must NOT have additional properties: "readOnlyRootFileSystem"/);
    assert.match(errors, /Service\/kafka-es-transfer: \/spec must NOT have additional properties: "selecter"/);
  });

  test("a misspelled KEDA trigger key fails (lagTreshold), as does a bad value", () => {
    assert.match(triggerErrors("kafka", { bootstrapServers: "k:9092", consumerGroup: "g", topic: "t", lagTreshold: "50" }).join("\n"), /unknown metadata key "lagTreshold"[\s\S]*"lagThreshold" is missing/);
    assert.match(triggerErrors("kafka", { bootstrapServers: "k:9092", consumerGroup: "g", topic: "t", lagThreshold: "fifty" }).join("\n"), /lagThreshold is "fifty", expected a positive integer/);
    assert.match(triggerErrors("kafka", { bootstrapServers: "k:9092", consumerGroup: "g", topic: "t", lagThreshold: "5", password: "x" }).join("\n"), /credential/);
    assert.match(triggerErrors("prometheus", { serverAddress: "prometheus:9090", query: "q", threshold: "0" }).join("\n"), /serverAddress[\s\S]*threshold is "0"/);
    const resources = example();
    const trigger = (field(first(resources, "ScaledObject"), "spec", "triggers") as Record<string, Record<string, unknown>>[])[0];
    assert.ok(trigger?.metadata);
    const metadata = trigger.metadata;
    metadata.lagTreshold = metadata.lagThreshold;
    delete metadata.lagThreshold;
    assert.deepEqual(schemaErrors(resources), [], "the KEDA schema alone lets it through");
    assert.match(scaledObjectErrors(resources).join("\n"), /unknown metadata key "lagTreshold"/);
    at(first(resources, "ScaledObject"), "spec").maxReplicas = 3;
    assert.match(scaledObjectErrors(resources).join("\n"), /unknown ScaledObject spec key "maxReplicas"/);
  });

  test("replicas above the partition count, a wrong group or target fail", () => {
    const resources = example();
    const spec = at(first(resources, "ScaledObject"), "spec");
    spec.maxReplicaCount = 13;
    const metadata = ((spec.triggers as Fields[])[0]?.metadata ?? {}) as Record<string, unknown>;
    metadata.consumerGroup = "someone-else";
    metadata.topic = "other-topic";
    const errors = scaledObjectErrors(resources).join("\n");
    assert.match(errors, /maxReplicaCount 13 is above the 12 partitions/);
    assert.match(errors, /group "someone-else"/);
    assert.match(errors, /topic "other-topic" is not in the worker's KAFKA_TOPICS/);
    at(spec, "scaleTargetRef").name = "nothing";
    assert.match(scaledObjectErrors(resources).join("\n"), /scaleTargetRef names no Deployment/);
  });

  test("a Deployment that sets spec.replicas under a ScaledObject fails (kubectl apply would reset the count)", () => {
    const resources = example();
    assert.equal(field(first(resources, "Deployment"), "spec", "replicas"), undefined);
    at(first(resources, "Deployment"), "spec").replicas = 1;
    assert.match(scaledObjectErrors(resources).join("\n"), /spec\.replicas is set while ScaledObject .* owns the replica count/);
  });

  test("a probe on another port than METRICS_PORT, or an unknown named port, fails", () => {
    const resources = example();
    const configMap = first(resources, "ConfigMap");
    at(configMap, "data").METRICS_PORT = "9999";
    assert.match(portErrors(resources).join("\n"), /livenessProbe probes port 9464 but METRICS_PORT is 9999/);
    const service = first(resources, "Service");
    const [port] = field(service, "spec", "ports") as Record<string, unknown>[];
    assert.ok(port);
    port.targetPort = "http";
    assert.match(portErrors(resources).join("\n"), /targetPort "http" is no container port's name/);
  });

  test("selectors that miss the pods fail", () => {
    const resources = example();
    at(first(resources, "PodDisruptionBudget"), "spec", "selector", "matchLabels")["app.kubernetes.io/name"] = "typo";
    at(first(resources, "Service"), "spec", "selector")["app.kubernetes.io/component"] = "typo";
    const errors = selectorErrors(resources).join("\n");
    assert.match(errors, /PodDisruptionBudget\/kafka-es-transfer: its selector/);
    assert.match(errors, /Service\/kafka-es-transfer: its selector/);
  });

  test("a missing Secret, a key that is no setting, or a secret in the ConfigMap fails", () => {
    const resources = example();
    const data = at(first(resources, "ConfigMap"), "data");
    data.KAFKA_BROKER = "k:9092";
    data.ES_PASSWORD = "oops";
    const errors = configurationErrors(resources).join("\n");
    assert.match(errors, /"KAFKA_BROKER" is not a setting/);
    assert.match(errors, /"ES_PASSWORD" is secret: put it in a Secret/);
    const without = example().filter((r) => r.kind !== "Secret");
    assert.match(configurationErrors(without).join("\n"), /envFrom Secret "kafka-es-transfer-credentials-[a-z0-9]+" is not among the resources/);
  });

  test("a grace period shorter than the drain, too little memory, or a writable root fail", () => {
    const resources = example();
    at(first(resources, "ConfigMap"), "data").SHUTDOWN_TIMEOUT_MS = "60000";
    const container = (field(first(resources, "Deployment"), "spec", "template", "spec", "containers") as Record<string, unknown>[])[0] ?? {};
    at(container, "resources", "limits").memory = "256Mi";
    at(container, "securityContext").readOnlyRootFilesystem = false;
    const errors = workloadErrors(resources).join("\n");
    assert.match(errors, /terminationGracePeriodSeconds 45 < SHUTDOWN_TIMEOUT_MS 60000/);
    assert.match(errors, /memory limit 256Mi is below the benchmark's peak RSS/);
    assert.match(errors, /readOnlyRootFilesystem must be true/);
  });

  test("a PodMonitor whose job label is not the alert rules' job fails", () => {
    const resources = example();
    at(first(resources, "PodMonitor"), "spec").jobLabel = "app.kubernetes.io/component";
    assert.match(podMonitorJobErrors(resources).join("\n"), /jobLabel must name a pod label whose value is "kafka-es-transfer"/);
  });
});
