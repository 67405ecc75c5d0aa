/** Where the real servers of `make services-up` listen: loopback only. */
import { randomBytes } from "node:crypto";
import path from "node:path";

/** KAFKA_BROKERS may list several (the cluster of test/infra/cluster.sh). */
export const BROKERS = (process.env.KAFKA_BROKERS ?? "127.0.0.1:9092").split(",").filter((b) => b !== "");
export const ES_NODE = process.env.ES_NODE ?? "http://127.0.0.1:9200";
/** The schema registry of test/infra/registry.sh (Apicurio's Confluent-compatible API). */
export const REGISTRY_URL = process.env.SCHEMA_REGISTRY_URL ?? `http://127.0.0.1:${process.env.SCHEMA_REGISTRY_PORT ?? "8081"}/apis/ccompat/v7`;
export const ROOT = path.resolve(import.meta.dirname, "../..");

/** Topic, group and index names unique to one test run, valid for both servers. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${String(timeoutMs)} ms waiting for ${what}${last === undefined ? "" : `: ${last instanceof Error ? last.message : JSON.stringify(last)}`}`);
    }
    await sleep(everyMs);
  }
}
