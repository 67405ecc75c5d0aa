/**
 * The Prometheus files are checked by Prometheus's own tool. promtool comes from
 * Debian's `prometheus` package; a machine without it fails here with the install
 * command rather than skipping, so a missing install step cannot hide behind green CI.
 */
import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { promisify } from "node:util";
import {
  ALERTS_PATH,
  ALERTS_TEST_PATH,
  DOCKER_DIR,
  PROMETHEUS_CONFIG_PATH,
  dashboardExpressions,
} from "../../support/metric-names.ts";

const run = promisify(execFile);
const PROMTOOL = process.env.PROMTOOL ?? "promtool";
const INSTALL_HINT =
  "promtool not found: install it with `apt-get update && apt-get install -y --no-install-recommends prometheus` (or set PROMTOOL=/path/to/promtool)";

function requirePromtool(): void {
  const probe = spawnSync(PROMTOOL, ["--version"], { encoding: "utf8" });
  if (probe.error !== undefined || probe.status !== 0) assert.fail(INSTALL_HINT);
}

async function promtool(args: readonly string[], cwd: string): Promise<string> {
  requirePromtool();
  try {
    const { stdout, stderr } = await run(PROMTOOL, [...args], { cwd, timeout: 60_000 });
    return stdout + stderr;
  } catch (error) {
    const out = error as { stdout?: string; stderr?: string };
    assert.fail(`promtool ${args.join(" ")} failed:\n${out.stdout ?? ""}${out.stderr ?? ""}`);
  }
}

/** Grafana variables replaced by values PromQL accepts, so the panel queries can be parsed. */
function withoutGrafanaVariables(expression: string): string {
  return expression
    .replaceAll("$__rate_interval", "5m")
    .replaceAll("$__interval", "1m")
    .replace(/\$\{?[A-Za-z_]\w*\}?/g, ".*");
}

describe("prometheus files (promtool)", () => {
  test("prometheus.yml is a valid config and finds its rule file", async () => {
    const output = await promtool(["check", "config", PROMETHEUS_CONFIG_PATH], `${DOCKER_DIR}prometheus`);
    assert.match(output, /SUCCESS: 1 rule files found/);
  });

  test("alerts.yml is a valid rules file", async () => {
    const output = await promtool(["check", "rules", ALERTS_PATH], `${DOCKER_DIR}prometheus`);
    assert.match(output, /SUCCESS: \d+ rules found/);
  });

  test("each alert fires (and stays quiet) as alerts.test.yml expects", async () => {
    const output = await promtool(["test", "rules", ALERTS_TEST_PATH], `${DOCKER_DIR}prometheus`);
    assert.match(output, /SUCCESS/);
  });

  test("every dashboard query is valid PromQL", async () => {
    const { panels } = dashboardExpressions();
    assert.ok(panels.length > 20, `expected the dashboard's queries, found ${panels.length}`);
    // promtool parses the expressions of recording rules: wrap each query in one.
    const rules = panels
      .map((expr, i) => `      - record: dashboard:query_${i}\n        expr: ${JSON.stringify(withoutGrafanaVariables(expr))}\n`)
      .join("");
    const dir = mkdtempSync(join(tmpdir(), "dashboard-promql-"));
    try {
      const file = join(dir, "dashboard-rules.yml");
      writeFileSync(file, `groups:\n  - name: dashboard\n    rules:\n${rules}`);
      const output = await promtool(["check", "rules", file], dir);
      assert.match(output, new RegExp(`SUCCESS: ${panels.length} rules found`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
