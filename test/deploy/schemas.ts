/**
 * Offline schema validation of rendered resources with the npm models of Kubernetes
 * (kubernetes-models), KEDA and the Prometheus Operator. They check types, required
 * fields and enums; they do not reject unknown fields (strict-schemas.ts does, for the
 * built-in kinds), and KEDA's trigger metadata is a free string map in its CRD
 * (keda-triggers.ts checks it).
 */
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Secret } from "kubernetes-models/v1/Secret";
import { Service } from "kubernetes-models/v1/Service";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { ScaledObject } from "@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject";
import { TriggerAuthentication } from "@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication";
import { PodMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor";
import { PrometheusRule } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule";
import type { Resource } from "./resources.ts";

interface Validatable {
  validate(): void;
}
type ModelFactory = (resource: Resource) => Validatable;

// The CRD models' constructors take their own typed shape; validate() decides whether
// the rendered data fits it, so the cast is the point.
const MODELS: Readonly<Record<string, ModelFactory>> = {
  "v1/ConfigMap": (r) => new ConfigMap(r),
  "v1/Secret": (r) => new Secret(r),
  "v1/Service": (r) => new Service(r),
  "apps/v1/Deployment": (r) => new Deployment(r),
  "policy/v1/PodDisruptionBudget": (r) => new PodDisruptionBudget(r),
  "keda.sh/v1alpha1/ScaledObject": (r) => new ScaledObject(r as never),
  "keda.sh/v1alpha1/TriggerAuthentication": (r) => new TriggerAuthentication(r as never),
  "monitoring.coreos.com/v1/PodMonitor": (r) => new PodMonitor(r as never),
  "monitoring.coreos.com/v1/PrometheusRule": (r) => new PrometheusRule(r as never),
};

/** One line per invalid resource: `Kind/name: what is wrong`; empty when all are valid. */
export function schemaErrors(resources: readonly Resource[]): string[] {
  const errors: string[] = [];
  for (const resource of resources) {
    const where = `${resource.kind}/${resource.metadata.name}`;
    const model = MODELS[`${resource.apiVersion}/${resource.kind}`];
    if (model === undefined) {
      errors.push(`${where}: no schema for ${resource.apiVersion} ${resource.kind}`);
      continue;
    }
    try {
      model(resource).validate();
    } catch (error) {
      errors.push(`${where}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return errors;
}
