/**
 * The names of the failure policies (what happens to a record Elasticsearch will never
 * accept), declared once for the config (bulk.onPermanentError) and the sink
 * (sink/failure-policy.ts, which says what each one does).
 */
export const FAILURE_POLICY_NAMES = ["skip", "stop", "dlq"] as const;

export type FailurePolicyName = (typeof FAILURE_POLICY_NAMES)[number];

/** The setting: a policy, or "" (unset) = "dlq" when a dead-letter topic is set, else "skip". */
export const PERMANENT_ERROR_SETTINGS = ["", ...FAILURE_POLICY_NAMES] as const;

export type PermanentErrorSetting = (typeof PERMANENT_ERROR_SETTINGS)[number];

/** The policy in force for a setting, given the dead-letter topic ("" = none). */
export function effectiveFailurePolicy(setting: PermanentErrorSetting, deadLetterTopic: string): FailurePolicyName {
  if (setting !== "") return setting;
  return deadLetterTopic === "" ? "skip" : "dlq";
}
