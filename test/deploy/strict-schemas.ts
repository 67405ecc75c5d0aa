/**
 * Kubernetes' own API schemas in their strict form (additionalProperties: false), from
 * PyPI's kubernetes-validate (test/infra/k8s-schemas.sh puts them in the cache): they
 * catch what the npm models let through, a misspelled field such as
 * `readOnlyRootFileSystem`, which the API server would drop or refuse.
 */
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import type { Resource } from "./resources.ts";

const CACHE = process.env.KES_CACHE_DIR ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(homedir(), ".cache"), "kafka-es-transfer");
export const STRICT_SCHEMA_DIR = process.env.K8S_SCHEMA_DIR ?? path.join(CACHE, "k8s-schemas", "v1.32.0-local-strict");

/** kubernetes-validate's file name for a built-in kind: `deployment-apps-v1.json`, `service-v1.json`. */
export function schemaFileName(apiVersion: string, kind: string): string {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  const groupPart = group === "" ? "" : `-${(group ?? "").split(".")[0] ?? ""}`;
  return `${kind.toLowerCase()}${groupPart}-${version ?? ""}.json`;
}

let ajv: Ajv2020 | undefined;
const compiled = new Map<string, ValidateFunction>();

function validatorFor(file: string): ValidateFunction {
  const cached = compiled.get(file);
  if (cached !== undefined) return cached;
  if (!existsSync(path.join(STRICT_SCHEMA_DIR, "_definitions.json"))) {
    throw new Error(`no Kubernetes schemas in ${STRICT_SCHEMA_DIR}: run \`make tools\` (bash test/infra/k8s-schemas.sh)`);
  }
  if (ajv === undefined) {
    ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
    ajv.addSchema(JSON.parse(readFileSync(path.join(STRICT_SCHEMA_DIR, "_definitions.json"), "utf8")) as object);
  }
  const validate = ajv.compile(JSON.parse(readFileSync(path.join(STRICT_SCHEMA_DIR, file), "utf8")) as object);
  compiled.set(file, validate);
  return validate;
}

/** Strict-schema problems of the built-in kinds (custom resources are left to schemas.ts). */
export function strictSchemaErrors(resources: readonly Resource[]): string[] {
  const errors: string[] = [];
  for (const resource of resources) {
    const file = schemaFileName(resource.apiVersion, resource.kind);
    if (!existsSync(path.join(STRICT_SCHEMA_DIR, file)) && existsSync(STRICT_SCHEMA_DIR)) continue;
    const validate = validatorFor(file);
    // Named before the call: Ajv's type guard narrows `resource` to never when it fails.
    const where = `${resource.kind}/${resource.metadata.name}`;
    if (validate(resource)) continue;
    for (const e of validate.errors ?? []) {
      const extra = e.params.additionalProperty === undefined ? "" : `: "${String(e.params.additionalProperty)}"`;
      errors.push(`${where}: ${e.instancePath || "/"} ${e.message ?? "is invalid"}${extra}`);
    }
  }
  return errors;
}
