/**
 * What no schema sees: that the rendered resources of one deployment fit together and
 * fit the service's own configuration schema. Each check returns one line per problem.
 */
import { schemaLeaves } from "../../src/config/schema.ts";
import { field, fields, list, stringMap, type Fields, type Resource } from "./resources.ts";

/** The environment variables the worker reads (src/config/schema.ts), and whether each is secret. */
const SETTINGS = new Map<string, boolean>(schemaLeaves.flatMap((leaf) => (leaf.item.env === undefined ? [] : [[leaf.item.env, leaf.item.sensitive === true] as const])));
SETTINGS.set("CONFIG_FILE", false);
const DEFAULT_METRICS_PORT = defaultOf("METRICS_PORT");
export const DEFAULT_DRAIN_MS = defaultOf("SHUTDOWN_TIMEOUT_MS");

export function defaultOf(env: string): number {
  const leaf = schemaLeaves.find((l) => l.item.env === env);
  return Number(leaf?.item.default);
}

export const byKind = (resources: readonly Resource[], kind: string): Resource[] => resources.filter((r) => r.kind === kind);
export const nameOf = (r: Resource): string => `${r.kind}/${r.metadata.name}`;
export const find = (resources: readonly Resource[], kind: string, name: string, namespace: string | undefined): Resource | undefined =>
  resources.find((r) => r.kind === kind && r.metadata.name === name && r.metadata.namespace === namespace);

/** True when every label of `selector` is on `labels`. */
const selects = (selector: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>>): boolean =>
  Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);

export const podTemplate = (d: Resource): Fields => fields(d, "spec", "template");
export const podLabels = (d: Resource): Readonly<Record<string, string>> => stringMap(podTemplate(d), "metadata", "labels");
export const containers = (d: Resource): Fields[] => list(podTemplate(d), "spec", "containers").filter((c): c is Fields => typeof c === "object" && c !== null);

/** The worker's environment as Kubernetes will set it: envFrom ConfigMaps, then env values. */
export function containerEnvironment(resources: readonly Resource[], deployment: Resource, container: Fields): Map<string, string> {
  const env = new Map<string, string>();
  for (const source of list(container, "envFrom")) {
    const name = field(source, "configMapRef", "name");
    if (typeof name !== "string") continue;
    const configMap = find(resources, "ConfigMap", name, deployment.metadata.namespace);
    for (const [k, v] of Object.entries(stringMap(configMap, "data"))) env.set(k, v);
  }
  for (const entry of list(container, "env")) {
    const name = field(entry, "name");
    const value = field(entry, "value");
    if (typeof name === "string" && typeof value === "string") env.set(name, value);
  }
  return env;
}

function containerPort(container: Fields, port: unknown): number | undefined {
  if (typeof port === "number") return port;
  const named = list(container, "ports").find((p) => field(p, "name") === port);
  const number = field(named, "containerPort");
  return typeof number === "number" ? number : undefined;
}

const allPortNames = (d: Resource): Set<string> =>
  new Set(containers(d).flatMap((c) => list(c, "ports").map((p) => field(p, "name")).filter((n): n is string => typeof n === "string")));

/** Selectors of the Deployment itself, the Service, the PodDisruptionBudget and the PodMonitor match the pods. */
export function selectorErrors(resources: readonly Resource[]): string[] {
  const deployments = byKind(resources, "Deployment");
  const errors: string[] = [];
  for (const d of deployments) {
    if (!selects(stringMap(d, "spec", "selector", "matchLabels"), podLabels(d))) errors.push(`${nameOf(d)}: spec.selector does not match its pod template's labels`);
  }
  const selectors: [Resource, Readonly<Record<string, string>>][] = [
    ...byKind(resources, "Service").map((r): [Resource, Readonly<Record<string, string>>] => [r, stringMap(r, "spec", "selector")]),
    ...["PodDisruptionBudget", "PodMonitor"].flatMap((kind) => byKind(resources, kind).map((r): [Resource, Readonly<Record<string, string>>] => [r, stringMap(r, "spec", "selector", "matchLabels")])),
  ];
  for (const [r, selector] of selectors) {
    const matched = deployments.filter((d) => d.metadata.namespace === r.metadata.namespace && selects(selector, podLabels(d)));
    if (matched.length === 0) errors.push(`${nameOf(r)}: its selector ${JSON.stringify(selector)} matches no Deployment's pods`);
  }
  return errors;
}

/** Named ports exist; the probes and the metrics port are the port the worker listens on (METRICS_PORT). */
export function portErrors(resources: readonly Resource[]): string[] {
  const errors: string[] = [];
  for (const d of byKind(resources, "Deployment")) {
    for (const c of containers(d)) {
      const metricsPort = Number(containerEnvironment(resources, d, c).get("METRICS_PORT") ?? DEFAULT_METRICS_PORT);
      for (const probe of ["startupProbe", "livenessProbe", "readinessProbe"]) {
        const probeFields = field(c, probe);
        if (probeFields === undefined) continue;
        const port = containerPort(c, field(probeFields, "httpGet", "port"));
        if (port === undefined) errors.push(`${nameOf(d)}: ${probe} names a port the container does not declare`);
        else if (port !== metricsPort) errors.push(`${nameOf(d)}: ${probe} probes port ${String(port)} but METRICS_PORT is ${String(metricsPort)}`);
      }
      if (field(c, "livenessProbe", "httpGet", "path") !== "/healthz") errors.push(`${nameOf(d)}: livenessProbe must GET /healthz`);
      if (field(c, "readinessProbe", "httpGet", "path") !== "/readyz") errors.push(`${nameOf(d)}: readinessProbe must GET /readyz`);
    }
  }
  const portsFor = (r: Resource): Set<string> => new Set(byKind(resources, "Deployment").filter((d) => d.metadata.namespace === r.metadata.namespace).flatMap((d) => [...allPortNames(d)]));
  for (const s of byKind(resources, "Service")) {
    for (const p of list(s, "spec", "ports")) {
      const target = field(p, "targetPort");
      if (typeof target === "string" && !portsFor(s).has(target)) errors.push(`${nameOf(s)}: targetPort "${target}" is no container port's name`);
    }
  }
  for (const m of byKind(resources, "PodMonitor")) {
    for (const e of list(m, "spec", "podMetricsEndpoints")) {
      const port = field(e, "port");
      if (typeof port !== "string" || !portsFor(m).has(port)) errors.push(`${nameOf(m)}: endpoint port ${JSON.stringify(port)} is no container port's name`);
    }
  }
  return errors;
}

/** The ConfigMaps and Secrets a container reads: existing, holding the keys asked for, and each key a setting. */
export function configurationErrors(resources: readonly Resource[]): string[] {
  const errors: string[] = [];
  for (const d of byKind(resources, "Deployment")) {
    const namespace = d.metadata.namespace;
    for (const c of containers(d)) {
      for (const source of list(c, "envFrom")) {
        for (const [refKey, kind] of [["configMapRef", "ConfigMap"], ["secretRef", "Secret"]] as const) {
          const name = field(source, refKey, "name");
          if (typeof name !== "string") continue;
          const target = find(resources, kind, name, namespace);
          if (target === undefined) {
            if (field(source, refKey, "optional") !== true) errors.push(`${nameOf(d)}: envFrom ${kind} "${name}" is not among the resources`);
            continue;
          }
          errors.push(...keyErrors(target));
        }
      }
      for (const entry of list(c, "env")) {
        for (const [refKey, kind] of [["configMapKeyRef", "ConfigMap"], ["secretKeyRef", "Secret"]] as const) {
          const ref = field(entry, "valueFrom", refKey);
          if (ref === undefined) continue;
          const name = String(field(ref, "name"));
          const key = String(field(ref, "key"));
          const target = find(resources, kind, name, namespace);
          if (target !== undefined && !keysOf(target).includes(key)) errors.push(`${nameOf(d)}: env ${String(field(entry, "name"))} reads key "${key}" that ${kind} "${name}" lacks`);
          else if (target === undefined && field(ref, "optional") !== true) errors.push(`${nameOf(d)}: env ${String(field(entry, "name"))} reads ${kind} "${name}", not among the resources`);
        }
      }
    }
  }
  return errors;
}

const keysOf = (r: Resource): string[] => [...Object.keys(fields(r, "data")), ...Object.keys(fields(r, "stringData"))];

/** Every key read as environment is a setting of the schema; secrets live in Secrets only. */
function keyErrors(source: Resource): string[] {
  const errors: string[] = [];
  for (const key of keysOf(source)) {
    const sensitive = SETTINGS.get(key);
    if (sensitive === undefined) errors.push(`${nameOf(source)}: "${key}" is not a setting of the configuration schema`);
    else if (sensitive && source.kind === "ConfigMap") errors.push(`${nameOf(source)}: "${key}" is secret: put it in a Secret`);
  }
  return errors;
}
