/**
 * The effective configuration for display (`check-config`, startup logs): a plain
 * object in which every key the schema marks `sensitive` shows "[redacted]" when set
 * and "" when not, so an operator can tell a missing secret from a present one without
 * seeing it.
 */
import { schemaLeaves } from "./schema.ts";
import type { Config } from "./schema.ts";

export const REDACTED = "[redacted]";

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function redactedConfig(config: Config): Record<string, unknown> {
  const copy = structuredClone(config) as unknown as Record<string, unknown>;
  for (const leaf of schemaLeaves) {
    if (leaf.item.sensitive !== true) continue;
    const parts = leaf.path.split(".");
    const name = parts.pop();
    let parent: unknown = copy;
    for (const part of parts) parent = isPlainObject(parent) ? parent[part] : undefined;
    if (name === undefined || !isPlainObject(parent)) continue;
    const value = parent[name];
    if (value !== undefined && value !== "" && value !== null) parent[name] = REDACTED;
  }
  return copy;
}
