/**
 * The worker's pod: stopping in time, memory for the benchmark's peak, and the security
 * settings the image is built for (uid 1000, nothing written to the root file system).
 */
import { containerEnvironment, containers, DEFAULT_DRAIN_MS, nameOf, byKind, podTemplate } from "./cross-references.ts";
import { field, type Fields, type Resource } from "./resources.ts";

/** Seconds the pod needs after the drain deadline: the final commit, disconnect, exit. */
export const STOP_MARGIN_SECONDS = 5;
/** Peak RSS the benchmark measured at default settings (issue 12): the memory limit must hold it. */
export const BENCH_PEAK_RSS_MIB = 315;

const UNITS: Readonly<Record<string, number>> = { "": 1, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, k: 1e3, M: 1e6, G: 1e9 };

/** A Kubernetes memory quantity in MiB ("512Mi", "1Gi", "500M"); NaN when unreadable. */
export function quantityMiB(quantity: unknown): number {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|k|M|G)?$/.exec(String(quantity));
  if (match === null) return Number.NaN;
  return (Number(match[1]) * (UNITS[match[2] ?? ""] ?? Number.NaN)) / 2 ** 20;
}

function stopErrors(resources: readonly Resource[], d: Resource, c: Fields): string[] {
  const drainMs = Number(containerEnvironment(resources, d, c).get("SHUTDOWN_TIMEOUT_MS") ?? DEFAULT_DRAIN_MS);
  const grace = Number(field(podTemplate(d), "spec", "terminationGracePeriodSeconds") ?? 30);
  const needed = drainMs / 1000 + STOP_MARGIN_SECONDS;
  return grace >= needed ? [] : [`${nameOf(d)}: terminationGracePeriodSeconds ${String(grace)} < SHUTDOWN_TIMEOUT_MS ${String(drainMs)} ms + ${String(STOP_MARGIN_SECONDS)} s: the drain would be SIGKILLed`];
}

function memoryErrors(d: Resource, c: Fields): string[] {
  const request = quantityMiB(field(c, "resources", "requests", "memory"));
  const limit = quantityMiB(field(c, "resources", "limits", "memory"));
  const errors: string[] = [];
  if (!(limit >= BENCH_PEAK_RSS_MIB)) errors.push(`${nameOf(d)}: memory limit ${String(field(c, "resources", "limits", "memory"))} is below the benchmark's peak RSS (${String(BENCH_PEAK_RSS_MIB)} MiB)`);
  if (!(request <= limit)) errors.push(`${nameOf(d)}: memory request above the limit, or either missing`);
  if (field(c, "resources", "requests", "cpu") === undefined) errors.push(`${nameOf(d)}: no CPU request`);
  return errors;
}

function securityErrors(d: Resource, c: Fields): string[] {
  const pod = field(podTemplate(d), "spec", "securityContext");
  const wanted: [string, unknown, unknown][] = [
    ["runAsNonRoot", field(pod, "runAsNonRoot") ?? field(c, "securityContext", "runAsNonRoot"), true],
    ["readOnlyRootFilesystem", field(c, "securityContext", "readOnlyRootFilesystem"), true],
    ["allowPrivilegeEscalation", field(c, "securityContext", "allowPrivilegeEscalation"), false],
  ];
  return wanted.filter(([, actual, expected]) => actual !== expected).map(([name, , expected]) => `${nameOf(d)}: securityContext.${name} must be ${String(expected)}`);
}

export function workloadErrors(resources: readonly Resource[]): string[] {
  return byKind(resources, "Deployment").flatMap((d) => containers(d).flatMap((c) => [
    ...stopErrors(resources, d, c), ...memoryErrors(d, c), ...securityErrors(d, c),
  ]));
}
