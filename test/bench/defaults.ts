/**
 * The worker's default settings, read through the project's own config loader (schema
 * defaults plus config/default.json) with an otherwise empty environment, exactly
 * what the spawned worker sees: the ceilings then use the same bulk size, concurrency
 * and fetch sizes as the worker. `extraEnv` (BENCH_WORKER_ENV) applies to both.
 */
import { loadConfig } from "../../src/config/load.ts";
import type { Config } from "../../src/config/schema.ts";

export function workerDefaults(extraEnv: Readonly<Record<string, string>> = {}): Config {
  return loadConfig({ argv: [], env: { ...extraEnv, KAFKA_TOPICS: "kesbench-defaults" } });
}
