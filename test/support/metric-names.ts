/**
 * Which metric names the Grafana dashboard and the Prometheus alert rules use, and which
 * of them a registry (or a live /metrics scrape) does not expose. Shared by the unit test
 * (against `createMetrics()`'s registry) and the integration test (against a live scrape).
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const DOCKER_DIR = fileURLToPath(new URL("../../docker/", import.meta.url));
export const DASHBOARD_PATH = `${DOCKER_DIR}grafana/dashboard.json`;
export const ALERTS_PATH = `${DOCKER_DIR}prometheus/alerts.yml`;
export const PROMETHEUS_CONFIG_PATH = `${DOCKER_DIR}prometheus/prometheus.yml`;
export const ALERTS_TEST_PATH = `${DOCKER_DIR}prometheus/alerts.test.yml`;

/** The service's own names, and the standard Node.js process metrics. */
const METRIC_NAME = /\b(?:kafka_es_transfer|process|nodejs)_[a-z0-9_]*[a-z0-9]/g;

/** Series Prometheus makes itself, not the service: never expected in a scrape. */
export const PROMETHEUS_GENERATED: readonly string[] = ["up", "scrape_duration_seconds", "scrape_samples_scraped"];

const HISTOGRAM_SUFFIXES = ["_bucket", "_sum", "_count"] as const;

export interface ReferencedMetricNames {
  readonly dashboard: readonly string[];
  readonly rules: readonly string[];
  /** Union of both, sorted. */
  readonly all: readonly string[];
}

/** The metric names a PromQL expression mentions (service and process metrics only). */
export function metricNamesIn(expression: string): string[] {
  return [...new Set(expression.match(METRIC_NAME) ?? [])].sort();
}

interface DashboardExpressions {
  /** PromQL of every panel target (with Grafana variables such as `$__rate_interval`). */
  readonly panels: readonly string[];
  /** Template variable queries (`label_values(...)`): not PromQL, but they name metrics. */
  readonly variables: readonly string[];
}

/** Every expression of the dashboard, found by walking the whole JSON (rows may nest panels). */
export function dashboardExpressions(dashboardJson: string = readFileSync(DASHBOARD_PATH, "utf8")): DashboardExpressions {
  const parsed: unknown = JSON.parse(dashboardJson);
  const panels: string[] = [];
  const variables: string[] = [];
  const walk = (node: unknown, inTemplating: boolean): void => {
    if (Array.isArray(node)) {
      for (const item of node) walk(item, inTemplating);
      return;
    }
    if (typeof node !== "object" || node === null) return;
    for (const [key, value] of Object.entries(node)) {
      if (key === "expr" && typeof value === "string") panels.push(value);
      else if (inTemplating && (key === "query" || key === "definition") && typeof value === "string") variables.push(value);
      else walk(value, inTemplating || key === "templating");
    }
  };
  walk(parsed, false);
  return { panels, variables };
}

/**
 * The `expr` of every rule in a Prometheus rules file: single-line values and block
 * scalars (`expr: |`). A small reader for our own file, not a YAML parser.
 */
export function ruleExpressions(rulesYaml: string = readFileSync(ALERTS_PATH, "utf8")): string[] {
  const lines = rulesYaml.split("\n");
  const expressions: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const match = /^(\s*)(?:-\s+)?expr:\s*(.*)$/.exec(lines[i] ?? "");
    if (match === null) continue;
    const indent = (match[1] ?? "").length;
    const value = (match[2] ?? "").trim();
    if (!/^[|>][-+]?$/.test(value)) {
      expressions.push(unquote(value));
      continue;
    }
    const block: string[] = [];
    while (i + 1 < lines.length) {
      const next = lines[i + 1] ?? "";
      if (next.trim() !== "" && next.length - next.trimStart().length <= indent) break;
      block.push(next.trim());
      i++;
    }
    expressions.push(block.join("\n").trim());
  }
  return expressions;
}

function unquote(value: string): string {
  const quoted = /^(["'])(.*)\1$/.exec(value);
  return quoted === null ? value : (quoted[2] ?? "");
}

/** The metric names the dashboard and the alert rules reference, as written (histograms with `_bucket` etc.). */
export function referencedMetricNames(): ReferencedMetricNames {
  const { panels, variables } = dashboardExpressions();
  const dashboard = unique([...panels, ...variables].flatMap(metricNamesIn));
  const rules = unique(ruleExpressions().flatMap(metricNamesIn));
  return { dashboard, rules, all: unique([...dashboard, ...rules]) };
}

/**
 * Names in `referenced` that `exposed` (metric family names, as in `# TYPE` lines or
 * `registry.getMetricsAsArray()`) does not cover. A `_bucket`/`_sum`/`_count` name is
 * covered by its histogram (or summary) family.
 */
export function undeclaredMetricNames(referenced: readonly string[], exposed: readonly string[]): string[] {
  const families = new Set(exposed);
  return referenced.filter((name) => {
    if (families.has(name) || PROMETHEUS_GENERATED.includes(name)) return false;
    const suffix = HISTOGRAM_SUFFIXES.find((s) => name.endsWith(s));
    return suffix === undefined || !families.has(name.slice(0, -suffix.length));
  });
}

/** Metric family names of a Prometheus text exposition (the `# TYPE name type` lines). */
export function metricFamiliesFromExposition(text: string): string[] {
  const names: string[] = [];
  for (const line of text.split("\n")) {
    const match = /^# TYPE (\S+) \S+/.exec(line);
    if (match?.[1] !== undefined) names.push(match[1]);
  }
  return unique(names);
}

function unique(names: readonly string[]): string[] {
  return [...new Set(names)].sort();
}
