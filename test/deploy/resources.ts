/**
 * Rendered Kubernetes manifests as plain data: `kubectl kustomize` (offline) and small
 * readers for the fields the checks look at. Everything is `unknown` until narrowed.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parseAllDocuments } from "yaml";

export const KUBERNETES_DIR = fileURLToPath(new URL("../../docker/kubernetes/", import.meta.url));
const run = promisify(execFile);

export type Fields = Readonly<Record<string, unknown>>;

/** One rendered resource. */
export interface Resource extends Fields {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: Fields & { readonly name: string; readonly namespace?: string };
}

export function isFields(value: unknown): value is Fields {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `obj.a.b.c`, or undefined as soon as a step is not an object. */
export function field(value: unknown, ...path: readonly string[]): unknown {
  let current = value;
  for (const key of path) {
    if (!isFields(current)) return undefined;
    current = current[key];
  }
  return current;
}

export function fields(value: unknown, ...path: readonly string[]): Fields {
  const found = field(value, ...path);
  return isFields(found) ? found : {};
}

export function list(value: unknown, ...path: readonly string[]): readonly unknown[] {
  const found = field(value, ...path);
  return Array.isArray(found) ? found : [];
}

/** A string-valued map (labels, ConfigMap data); non-string values are dropped. */
export function stringMap(value: unknown, ...path: readonly string[]): Readonly<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(fields(value, ...path))) if (typeof v === "string") out[key] = v;
  return out;
}

function isResource(value: unknown): value is Resource {
  return typeof field(value, "apiVersion") === "string" && typeof field(value, "kind") === "string"
    && typeof field(value, "metadata", "name") === "string";
}

/** Parses a multi-document YAML stream into resources; anything else is an error. */
export function parseResources(text: string): Resource[] {
  return parseAllDocuments(text).map((doc, i) => {
    if (doc.errors.length > 0) throw new Error(`document ${String(i)}: ${doc.errors.map((e) => e.message).join("; ")}`);
    const value: unknown = doc.toJS();
    if (!isResource(value)) throw new Error(`document ${String(i)} is not a Kubernetes resource: ${JSON.stringify(value).slice(0, 200)}`);
    return value;
  });
}

/** `kubectl kustomize DIR` (a path under docker/kubernetes/), parsed. */
export async function renderKustomization(dir: string): Promise<Resource[]> {
  try {
    const { stdout } = await run("kubectl", ["kustomize", `${KUBERNETES_DIR}${dir}`], { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 });
    return parseResources(stdout);
  } catch (error) {
    const failed = error as { code?: unknown; stderr?: string };
    if (failed.code === "ENOENT") throw new Error("kubectl not found: run `bash test/infra/ensure-tools.sh kubectl`", { cause: error });
    throw new Error(`kubectl kustomize ${dir} failed: ${failed.stderr ?? String(error)}`, { cause: error });
  }
}

export const kindsOf = (resources: readonly Resource[]): string[] => resources.map((r) => r.kind).sort();

/** A deep copy to mutate in a test without touching the shared render. */
export function cloneResources(resources: readonly Resource[]): Resource[] {
  return structuredClone(resources) as Resource[];
}
