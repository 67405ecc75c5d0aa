/**
 * The ScaledObject and the PodMonitor against the Deployment they serve: the target
 * exists and leaves its replica count to KEDA, replicas stay within the topic's partitions, the Kafka trigger watches the
 * worker's own group and topics, the Prometheus trigger queries a declared metric, and
 * the scraped series carry the job the alert rules select.
 */
import { containerEnvironment, containers, find, nameOf, byKind, podLabels } from "./cross-references.ts";
import { scaledObjectSpecErrors, triggerErrors } from "./keda-triggers.ts";
import { field, fields, list, type Resource } from "./resources.ts";

export const PARTITIONS_ANNOTATION = "kafka-es-transfer/topic-partitions";
/** The job label the alert rules and the dashboard select (docker/prometheus/alerts.yml). */
export const PROMETHEUS_JOB = "kafka-es-transfer";

function targetOf(resources: readonly Resource[], so: Resource): Resource | undefined {
  const kind = field(so, "spec", "scaleTargetRef", "kind") ?? "Deployment";
  const name = field(so, "spec", "scaleTargetRef", "name");
  return typeof name === "string" && typeof kind === "string" ? find(resources, kind, name, so.metadata.namespace) : undefined;
}

function replicaErrors(so: Resource): string[] {
  const max = Number(field(so, "spec", "maxReplicaCount") ?? 100);
  const min = Number(field(so, "spec", "minReplicaCount") ?? 0);
  const partitions = Number(fields(so, "metadata", "annotations")[PARTITIONS_ANNOTATION]);
  if (!Number.isInteger(partitions) || partitions < 1) return [`${nameOf(so)}: annotation ${PARTITIONS_ANNOTATION} (the topic's partition count) is missing`];
  const errors: string[] = [];
  if (max > partitions) errors.push(`${nameOf(so)}: maxReplicaCount ${String(max)} is above the ${String(partitions)} partitions: the extra replicas would sit idle`);
  if (min > max) errors.push(`${nameOf(so)}: minReplicaCount ${String(min)} is above maxReplicaCount ${String(max)}`);
  return errors;
}

function triggerTargetErrors(so: Resource, env: ReadonlyMap<string, string>, trigger: unknown): string[] {
  const type = String(field(trigger, "type"));
  const metadata = fields(trigger, "metadata");
  const errors = triggerErrors(type, metadata).map((e) => `${nameOf(so)}: ${e}`);
  if (type === "kafka") {
    if (metadata.consumerGroup !== env.get("KAFKA_GROUP_ID")) errors.push(`${nameOf(so)}: kafka trigger watches group ${JSON.stringify(metadata.consumerGroup)}, the worker's KAFKA_GROUP_ID is ${JSON.stringify(env.get("KAFKA_GROUP_ID"))}`);
    const topics = (env.get("KAFKA_TOPICS") ?? "").split(",").map((t) => t.trim());
    if (typeof metadata.topic === "string" && !topics.includes(metadata.topic)) errors.push(`${nameOf(so)}: kafka trigger topic "${metadata.topic}" is not in the worker's KAFKA_TOPICS`);
    if (metadata.allowIdleConsumers === "true") errors.push(`${nameOf(so)}: allowIdleConsumers "true" lets KEDA scale past the partition count`);
  }
  if (type === "prometheus" && !/\bkafka_es_transfer_consumer_lag\b/.test(String(metadata.query))) {
    errors.push(`${nameOf(so)}: the prometheus trigger's query does not read kafka_es_transfer_consumer_lag`);
  }
  return errors;
}

export function scaledObjectErrors(resources: readonly Resource[]): string[] {
  return byKind(resources, "ScaledObject").flatMap((so) => {
    const target = targetOf(resources, so);
    if (target === undefined) return [`${nameOf(so)}: scaleTargetRef names no Deployment among the resources`];
    const ownerErrors = field(target, "spec", "replicas") === undefined ? [] : [`${nameOf(target)}: spec.replicas is set while ScaledObject ${nameOf(so)} owns the replica count: every \`kubectl apply\` would reset it`];
    const [container] = containers(target);
    const env = container === undefined ? new Map<string, string>() : containerEnvironment(resources, target, container);
    const triggers = list(so, "spec", "triggers");
    if (triggers.length === 0) return [`${nameOf(so)}: no triggers`];
    const specErrors = scaledObjectSpecErrors(fields(so, "spec")).map((e) => `${nameOf(so)}: ${e}`);
    return [...ownerErrors, ...specErrors, ...replicaErrors(so), ...triggers.flatMap((t) => triggerTargetErrors(so, env, t))];
  });
}

/** The PodMonitor's jobLabel is a pod label whose value is the job the alert rules select. */
export function podMonitorJobErrors(resources: readonly Resource[]): string[] {
  return byKind(resources, "PodMonitor").flatMap((m) => {
    const jobLabel = field(m, "spec", "jobLabel");
    const jobs = byKind(resources, "Deployment").map((d) => (typeof jobLabel === "string" ? podLabels(d)[jobLabel] : undefined));
    return jobs.includes(PROMETHEUS_JOB) ? [] : [`${nameOf(m)}: spec.jobLabel must name a pod label whose value is "${PROMETHEUS_JOB}" (the job the alert rules select)`];
  });
}
