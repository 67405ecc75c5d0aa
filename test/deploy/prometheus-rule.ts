/**
 * docker/kubernetes/base/prometheus-rule.yaml is generated from docker/prometheus/alerts.yml,
 * so the alert rules have one source. Regenerate after editing the rules:
 *
 *   node_modules/.bin/node test/deploy/prometheus-rule.ts      (or: make manifests)
 *
 * A unit test (test/unit/deploy) fails when the committed file is out of date.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse, stringify } from "yaml";

export const ALERTS_FILE = fileURLToPath(new URL("../../docker/prometheus/alerts.yml", import.meta.url));
export const PROMETHEUS_RULE_FILE = fileURLToPath(new URL("../../docker/kubernetes/base/prometheus-rule.yaml", import.meta.url));

const HEADER = `# GENERATED from docker/prometheus/alerts.yml by test/deploy/prometheus-rule.ts: do not edit.
# Edit the rules there, then run \`make manifests\`.
`;

interface RulesFile {
  readonly groups: readonly unknown[];
}

function isRulesFile(value: unknown): value is RulesFile {
  return typeof value === "object" && value !== null && Array.isArray((value as { groups?: unknown }).groups);
}

/** The PrometheusRule resource (Prometheus Operator) holding the rule groups of `alertsYaml`. */
export function prometheusRuleYaml(alertsYaml: string): string {
  const rules: unknown = parse(alertsYaml);
  if (!isRulesFile(rules)) throw new Error(`${ALERTS_FILE}: no "groups" list`);
  const resource = {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PrometheusRule",
    metadata: {
      name: "kafka-es-transfer",
      labels: { "app.kubernetes.io/name": "kafka-es-transfer", "app.kubernetes.io/component": "worker" },
    },
    spec: { groups: rules.groups },
  };
  return HEADER + stringify(resource, { lineWidth: 0 });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(PROMETHEUS_RULE_FILE, prometheusRuleYaml(readFileSync(ALERTS_FILE, "utf8")));
  process.stdout.write(`wrote ${PROMETHEUS_RULE_FILE}\n`);
}
