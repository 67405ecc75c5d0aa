/**
 * KEDA's CRD types a trigger's `metadata` as a map of strings, so a misspelled key
 * (`lagTreshold`) or a bad value passes every schema and KEDA silently uses its default.
 * This table lists the keys KEDA documents for the triggers the manifests use
 * (keda.sh/docs/2.x/scalers/apache-kafka and .../prometheus) and checks their values.
 * Credentials are refused in metadata: they belong in a TriggerAuthentication.
 */
type ValueCheck = (value: string) => string | undefined;

const positiveInteger: ValueCheck = (v) => (/^[1-9]\d*$/.test(v) ? undefined : "a positive integer");
const nonNegativeInteger: ValueCheck = (v) => (/^\d+$/.test(v) ? undefined : "an integer >= 0");
const positiveNumber: ValueCheck = (v) => (/^\d+(\.\d+)?$/.test(v) && Number(v) > 0 ? undefined : "a positive number");
const nonNegativeNumber: ValueCheck = (v) => (/^\d+(\.\d+)?$/.test(v) ? undefined : "a number >= 0");
const boolean: ValueCheck = (v) => (v === "true" || v === "false" ? undefined : '"true" or "false"');
const oneOf = (...allowed: string[]): ValueCheck => (v) => (allowed.includes(v) ? undefined : `one of ${allowed.join(", ")}`);
const nonEmpty: ValueCheck = (v) => (v.trim() !== "" ? undefined : "not empty");
const brokerList: ValueCheck = (v) => (v.split(",").every((b) => /^[\w.-]+:\d{1,5}$/.test(b.trim())) ? undefined : "host:port[,host:port...]");
const httpUrl: ValueCheck = (v) => (/^https?:\/\/[^\s/]+/.test(v) ? undefined : "an http(s) URL");
const partitionList: ValueCheck = (v) => (/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(v) ? undefined : "partitions such as 1,2,10-20");

const TRIGGERS: Readonly<Record<string, Readonly<Record<string, ValueCheck>>>> = {
  kafka: {
    bootstrapServers: brokerList,
    consumerGroup: nonEmpty,
    topic: nonEmpty,
    lagThreshold: positiveInteger,
    activationLagThreshold: nonNegativeInteger,
    offsetResetPolicy: oneOf("earliest", "latest"),
    allowIdleConsumers: boolean,
    scaleToZeroOnInvalidOffset: boolean,
    excludePersistentLag: boolean,
    limitToPartitionsWithLag: boolean,
    ensureEvenDistributionOfPartitions: boolean,
    partitionLimitation: partitionList,
    version: (v) => (/^\d+\.\d+\.\d+$/.test(v) ? undefined : "a Kafka version such as 3.9.0"),
    sasl: oneOf("none", "plaintext", "scram_sha256", "scram_sha512", "oauthbearer", "gssapi"),
    tls: oneOf("enable", "disable"),
    unsafeSsl: boolean,
  },
  prometheus: {
    serverAddress: httpUrl,
    query: nonEmpty,
    threshold: positiveNumber,
    activationThreshold: nonNegativeNumber,
    namespace: nonEmpty,
    ignoreNullValues: boolean,
    unsafeSsl: boolean,
    queryParameters: nonEmpty,
    customHeaders: nonEmpty,
    authModes: nonEmpty,
  },
};

/** Keys that carry secrets: never in a ScaledObject, which anyone who can read it sees. */
const CREDENTIAL_KEYS = new Set(["username", "password", "ca", "cert", "key", "keyPassword", "bearerToken", "oauthTokenEndpointUri"]);

/** Problems with one trigger's type and metadata, one line each. */
export function triggerErrors(type: string, metadata: Readonly<Record<string, unknown>>): string[] {
  const table = TRIGGERS[type];
  if (table === undefined) return [`trigger type "${type}" is not one this project checks (${Object.keys(TRIGGERS).join(", ")})`];
  const errors: string[] = [];
  for (const [key, value] of Object.entries(metadata)) {
    if (CREDENTIAL_KEYS.has(key)) {
      errors.push(`${type} trigger: "${key}" is a credential: put it in a TriggerAuthentication`);
      continue;
    }
    const check = table[key];
    if (check === undefined) {
      errors.push(`${type} trigger: unknown metadata key "${key}" (known: ${Object.keys(table).join(", ")})`);
      continue;
    }
    if (typeof value !== "string") {
      errors.push(`${type} trigger: ${key} must be a string (KEDA's metadata is a string map), got ${JSON.stringify(value)}`);
      continue;
    }
    const wanted = check(value);
    if (wanted !== undefined) errors.push(`${type} trigger: ${key} is "${value}", expected ${wanted}`);
  }
  const required = type === "kafka" ? ["bootstrapServers", "consumerGroup", "topic", "lagThreshold"] : ["serverAddress", "query", "threshold"];
  for (const key of required) if (!(key in metadata)) errors.push(`${type} trigger: "${key}" is missing`);
  return errors;
}

/** ScaledObject.spec keys (KEDA 2.x): its CRD model lets any other key through. */
const SCALED_OBJECT_SPEC_KEYS = new Set([
  "scaleTargetRef", "pollingInterval", "cooldownPeriod", "initialCooldownPeriod", "idleReplicaCount",
  "minReplicaCount", "maxReplicaCount", "fallback", "advanced", "triggers",
]);

export function scaledObjectSpecErrors(spec: Readonly<Record<string, unknown>>): string[] {
  return Object.keys(spec).filter((key) => !SCALED_OBJECT_SPEC_KEYS.has(key)).map((key) => `unknown ScaledObject spec key "${key}"`);
}
