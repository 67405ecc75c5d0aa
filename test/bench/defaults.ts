/**
 * The worker's default settings, read through the project's own config loader (schema
 * defaults plus config/default.json) with an otherwise empty environment, exactly
 * what the spawned worker sees: the ceilings then use the same bulk size, concurrency
 * and fetch sizes as the worker.
 */
import { loadConfig } from "../../src/config/load.ts";
import type { Config } from "../../src/config/schema.ts";

export function workerDefaults(): Config {
  return loadConfig({ argv: [], env: { KAFKA_TOPICS: "kesbench-defaults" } });
}
