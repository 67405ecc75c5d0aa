/**
 * Loads, merges and validates the configuration. Every failure becomes one
 * ConfigError whose single-line message names each offending key and value
 * (sensitive values shown as [redacted]), e.g.
 *   config: bulk.workers = "abc" (from BULK_WORKERS): must be an integer from 1 to 64
 *
 * Order: schema defaults < config/default.json (package root) < --config FILE or
 * CONFIG_FILE < environment. Unknown keys are errors (convict's allowed: "strict").
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import convict from "convict";
import { ConfigError, describeError } from "../errors.ts";
import { checkOneOf, formatSpec } from "./formats.ts";
import { crossKeyProblems, effectivePermanentErrorPolicy } from "./rules.ts";
import { configSchema, schemaLeaves } from "./schema.ts";
import type { Config, SchemaLeaf } from "./schema.ts";

export type { Config } from "./schema.ts";

export interface LoadOptions {
  /** Command-line arguments, searched for `--config FILE` / `--config=FILE`; default process.argv.slice(2). */
  readonly argv?: readonly string[];
  /** Environment; default process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Files merged before the --config/CONFIG_FILE one; default config/default.json when it exists. */
  readonly files?: readonly string[];
  /** Whether kafka.topics or kafka.topicPattern must be set (default true; replay names its own topics). */
  readonly needsTopics?: boolean;
}

/** Resolved from this module, not the working directory: works from src/ and dist/ alike. */
export const DEFAULT_CONFIG_FILE = fileURLToPath(new URL("../../config/default.json", import.meta.url));

const MAX_SHOWN_CHARS = 120;
const byPath = new Map<string, SchemaLeaf>(schemaLeaves.map((leaf) => [leaf.path, leaf]));

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function shorten(text: string): string {
  return text.length > MAX_SHOWN_CHARS ? `${text.slice(0, MAX_SHOWN_CHARS)}...` : text;
}

/** How a value appears in a message: JSON, shortened, [redacted] when sensitive. */
export function showValue(path: string, value: unknown): string {
  const leaf = byPath.get(path);
  if (leaf?.item.sensitive === true) return "[redacted]";
  const format: unknown = leaf?.item.format;
  const spec = typeof format === "string" ? formatSpec(format) : undefined;
  const shown = spec?.display !== undefined ? spec.display(value) : JSON.stringify(value);
  return shorten(typeof shown === "string" ? shown : String(value));
}

function configFileFromArgs(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--config") {
      const next = argv[i + 1];
      if (next === undefined || next === "" || next.startsWith("--")) {
        throw new ConfigError("config: --config needs a file name");
      }
      return next;
    }
    if (arg?.startsWith("--config=") === true) {
      const file = arg.slice("--config=".length);
      if (file === "") throw new ConfigError("config: --config needs a file name");
      return file;
    }
  }
  return undefined;
}

/** JSON.parse messages quote the text around the error, which may hold secrets: keep only the position. */
function jsonErrorPlace(error: unknown): string {
  const message = error instanceof Error ? error.message : "";
  const place = /\(line \d+ column \d+\)|at position \d+/.exec(message);
  return place === null ? "" : ` ${place[0]}`;
}

function readJsonFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new ConfigError(`config: cannot read file ${file} (${typeof code === "string" ? code : describeError(error)})`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ConfigError(`config: file ${file} is not valid JSON${jsonErrorPlace(error)}`);
  }
}

function validateLeaf(leaf: SchemaLeaf, value: unknown): string | undefined {
  const format: unknown = leaf.item.format;
  try {
    if (Array.isArray(format)) checkOneOf(format, value);
    else if (typeof format === "string") {
      const spec = formatSpec(format);
      if (spec === undefined) return `unknown format ${format} in the schema`;
      spec.validate(value);
    }
    return undefined;
  } catch (error) {
    return describeError(error);
  }
}

/** Dotted paths of the groups ("kafka", "kafka.sasl"...) and, per parent path, the names under it. */
const groupPaths = new Set<string>();
const childNames = new Map<string, string[]>();
for (const { path } of schemaLeaves) {
  const parts = path.split(".");
  for (let i = 0; i < parts.length; i++) {
    const parent = parts.slice(0, i).join(".");
    const name = parts[i] ?? "";
    if (i < parts.length - 1) groupPaths.add(parts.slice(0, i + 1).join("."));
    const names = childNames.get(parent) ?? [];
    if (!names.includes(name)) names.push(name);
    childNames.set(parent, names);
  }
}

/** A sibling key differing only in case or - _ (the usual typo), for "did you mean". */
function closestKey(parent: string, name: string): string | undefined {
  const norm = (s: string): string => s.toLowerCase().replace(/[-_]/g, "");
  const found = (childNames.get(parent) ?? []).find((c) => norm(c) === norm(name));
  return found === undefined ? undefined : parent === "" ? found : `${parent}.${found}`;
}

/**
 * Checks one file's object against the schema before convict merges it: unknown keys,
 * groups that are not objects, and object values at settings (convict would descend
 * into them and fail obscurely). Returns the object without "//" comment keys.
 */
function checkFileObject(node: Record<string, unknown>, prefix: string, file: string, problems: string[]): Record<string, unknown> {
  const clean: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(node)) {
    if (name.startsWith("//")) continue;
    const path = prefix === "" ? name : `${prefix}.${name}`;
    const leaf = byPath.get(path);
    if (leaf !== undefined) {
      const problem = typeof value === "object" && value !== null ? validateLeaf(leaf, value) : undefined;
      if (problem === undefined) clean[name] = value;
      else problems.push(`${path} = ${showValue(path, value)} (in ${file}): ${problem}`);
    } else if (groupPaths.has(path)) {
      if (isPlainObject(value)) clean[name] = checkFileObject(value, path, file, problems);
      else problems.push(`${path} = ${shorten(JSON.stringify(value))} (in ${file}): must be an object (a group of settings)`);
    } else {
      const guess = closestKey(prefix, name);
      problems.push(`unknown key "${path}" in ${file}${guess === undefined ? "" : ` (did you mean "${guess}"?)`}`);
    }
  }
  return clean;
}

/**
 * Settings whose value is one JSON object keyed by topic names (index.topicMap,
 * topicSettings). Convict would read the dots of a topic such as "app.logs" as nesting
 * (and refuse the key), so it never sees them: the loader takes them from the files and
 * the environment itself, with the same precedence, and validates them like the rest.
 */
const OPAQUE_LEAVES: readonly SchemaLeaf[] = schemaLeaves.filter((leaf) => isPlainObject(leaf.item.default));

/** The schema convict gets: without the opaque leaves. */
function convictSchema(): convict.Schema<Config> {
  const copy = structuredClone(configSchema) as unknown as Record<string, unknown>;
  for (const { path } of OPAQUE_LEAVES) {
    const parts = path.split(".");
    const name = parts.pop() ?? "";
    const parent = valueAt(copy, parts.join("."));
    if (isPlainObject(parent)) Reflect.deleteProperty(parent, name);
  }
  return copy as unknown as convict.Schema<Config>;
}

/** Moves the opaque leaves' values out of a checked file object into `values` (later files win). */
function takeOpaque(content: Record<string, unknown>, values: Map<string, unknown>): void {
  for (const { path } of OPAQUE_LEAVES) {
    const parts = path.split(".");
    const name = parts.pop() ?? "";
    const parent = valueAt(content, parts.join("."));
    if (!isPlainObject(parent) || !(name in parent)) continue;
    values.set(path, parent[name]);
    Reflect.deleteProperty(parent, name);
  }
}

/** The opaque leaves' values: defaults < files < environment (coerced by their format). */
function opaqueValues(fromFiles: ReadonlyMap<string, unknown>, usedEnv: Readonly<Record<string, string>>): Map<string, unknown> {
  const values = new Map<string, unknown>();
  for (const leaf of OPAQUE_LEAVES) {
    const envName: unknown = leaf.item.env;
    const raw = typeof envName === "string" ? usedEnv[envName] : undefined;
    const format: unknown = leaf.item.format;
    const coerce = typeof format === "string" ? formatSpec(format)?.coerce : undefined;
    if (raw !== undefined) values.set(leaf.path, coerce === undefined ? raw : coerce(raw));
    else values.set(leaf.path, fromFiles.has(leaf.path) ? fromFiles.get(leaf.path) : structuredClone(leaf.item.default));
  }
  return values;
}

/** `properties` with the opaque values put at their paths. */
function withOpaque(properties: unknown, values: ReadonlyMap<string, unknown>): Config {
  const out = properties as Record<string, unknown>;
  for (const [path, value] of values) {
    const parts = path.split(".");
    const name = parts.pop() ?? "";
    let node = out;
    for (const part of parts) {
      const next = node[part];
      if (!isPlainObject(next)) throw new Error(`config group ${part} missing`);
      node = next;
    }
    node[name] = value;
  }
  return out as unknown as Config;
}

function valueAt(root: unknown, path: string): unknown {
  if (path === "") return root;
  let node = root;
  for (const part of path.split(".")) {
    if (!isPlainObject(node)) return undefined;
    node = node[part];
  }
  return node;
}

/**
 * A secret's variable NAME also has a NAME_FILE twin, the way Kubernetes and Docker mount
 * secrets: the value is that file's content without its trailing line break.
 */
function secretFromFile(name: string, env: Readonly<Record<string, string | undefined>>, problems: string[]): string | undefined {
  const file = env[`${name}_FILE`];
  if (file === undefined || file === "") return undefined;
  if (env[name] !== undefined && env[name] !== "") {
    problems.push(`${name} and ${name}_FILE are both set: give only one`);
    return undefined;
  }
  try {
    return readFileSync(file, "utf8").replace(/\r?\n$/, "");
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    problems.push(`${name}_FILE = ${JSON.stringify(file)}: cannot read that file (${typeof code === "string" ? code : describeError(error)})`);
    return undefined;
  }
}

/** convict reads environment variables itself; give it only the non-empty ones it knows. */
function schemaEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const picked: Record<string, string> = {};
  const problems: string[] = [];
  for (const leaf of schemaLeaves) {
    const name: unknown = leaf.item.env;
    if (typeof name !== "string") continue;
    const value = leaf.item.sensitive === true ? (secretFromFile(name, env, problems) ?? env[name]) : env[name];
    if (value !== undefined && value !== "") picked[name] = value;
  }
  if (problems.length > 0) fail(problems);
  return picked;
}

function fail(problems: readonly string[]): never {
  throw new ConfigError(`config: ${problems.join("; ")}`);
}

export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const argv = options.argv ?? process.argv.slice(2);
  const files = [...(options.files ?? (existsSync(DEFAULT_CONFIG_FILE) ? [DEFAULT_CONFIG_FILE] : []))];
  const explicit = configFileFromArgs(argv) ?? (env.CONFIG_FILE === "" ? undefined : env.CONFIG_FILE);
  if (explicit !== undefined) files.push(explicit);

  const usedEnv = schemaEnv(env);
  let config: convict.Config<Config>;
  const fromFiles = new Map<string, unknown>();
  try {
    // args: [] so that convict never parses process.argv on its own.
    config = convict(convictSchema(), { env: usedEnv, args: [] });
    for (const file of files) {
      const content = readJsonFile(file);
      if (!isPlainObject(content)) fail([`file ${file} must hold a JSON object`]);
      const problems: string[] = [];
      const clean = checkFileObject(content, "", file, problems);
      if (problems.length > 0) fail(problems);
      takeOpaque(clean, fromFiles);
      config.load(clean);
    }
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`config: ${describeError(error).split("\n")[0] ?? ""}`, error);
  }
  const opaque = opaqueValues(fromFiles, usedEnv);

  const properties: unknown = withOpaque(config.getProperties(), opaque);
  const problems: string[] = [];
  for (const leaf of schemaLeaves) {
    const value = valueAt(properties, leaf.path);
    const problem = validateLeaf(leaf, value);
    if (problem === undefined) continue;
    const envName: unknown = leaf.item.env;
    const from = typeof envName === "string" && envName in usedEnv ? ` (from ${envName})` : "";
    problems.push(`${leaf.path} = ${showValue(leaf.path, value)}${from}: ${problem}`);
  }
  if (problems.length > 0) fail(problems);

  const result = withOpaque(config.getProperties(), opaque);
  const crossProblems = crossKeyProblems(result, showValue, options.needsTopics ?? true);
  if (crossProblems.length > 0) fail(crossProblems);

  try {
    // A safety net: everything it checks was checked above with better messages.
    config.validate({ allowed: "strict" });
  } catch (error) {
    throw new ConfigError(`config: ${describeError(error).split("\n")[0] ?? ""}`, error);
  }
  // Defaults that depend on other keys, resolved once so check-config shows what runs.
  return { ...result, bulk: { ...result.bulk, onPermanentError: effectivePermanentErrorPolicy(result) } };
}
