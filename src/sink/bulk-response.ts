import type { BulkAction } from "../pipeline/document.ts";
import type { RetryReason } from "./observer.ts";

/** The parts of an Elasticsearch `ErrorCause` the sink reads (the client's type is assignable). */
export interface BulkErrorCause {
  readonly type?: string;
  readonly reason?: string | null;
  readonly caused_by?: BulkErrorCause;
}

export interface BulkItemResult {
  readonly status: number;
  readonly result?: string;
  readonly error?: BulkErrorCause;
  /**
   * Elasticsearch 8.19+ on a data stream with a failure store: "used" when the document
   * failed (pipeline or mapping) and was stored in the failure store instead (status
   * 201); "failed" when that store write failed too; "not_enabled" when it has none.
   */
  readonly failure_store?: string;
}

/** A bulk response: items in request order, each keyed by its operation type. */
export interface BulkResponseBody {
  readonly errors: boolean;
  readonly items: readonly Partial<Readonly<Record<string, BulkItemResult>>>[];
}

/** What became of one document of a bulk request. */
export type ItemOutcome =
  | { readonly kind: "indexed" }
  /** Not indexed: Elasticsearch kept it in the data stream's failure store (neither indexed nor dead-lettered). */
  | { readonly kind: "failure_stored" }
  | {
      readonly kind: "retry";
      readonly status: number;
      readonly reason: RetryReason;
      readonly errorType: string;
      readonly detail: string;
    }
  | { readonly kind: "rejected"; readonly status: number; readonly errorType: string; readonly detail: string };

const INDEXED: ItemOutcome = { kind: "indexed" };
const FAILURE_STORED: ItemOutcome = { kind: "failure_stored" };

/** "type: reason (caused by type: reason)", a few levels deep: the root cause is the useful part. */
export function describeCause(cause: BulkErrorCause | undefined): string {
  const parts: string[] = [];
  let current = cause;
  for (let depth = 0; current !== undefined && depth < 4; depth++) {
    parts.push(`${current.type ?? "error"}: ${current.reason ?? ""}`.trim());
    current = current.caused_by;
  }
  return parts.join(" (caused by ") + ")".repeat(Math.max(0, parts.length - 1));
}

/**
 * Error types an operator fixes, not the document: retried with the record held (its
 * partition's offset cannot move past it) and the alert firing, never skipped. A
 * missing index (auto-create off, deleted by lifecycle, a data stream without its
 * template), a closed index, a block (read-only, flood-stage disk), missing privileges.
 * Checked before the status, because the same block answers 403 or 429.
 */
const OPERATOR_ERROR_TYPES: ReadonlySet<string> = new Set([
  // A red index: its primary shard stayed unavailable for the whole bulk timeout.
  "unavailable_shards_exception",
  "index_not_found_exception",
  "index_closed_exception",
  "cluster_block_exception",
  "security_exception",
  "authorization_exception",
  "authentication_exception",
]);

/**
 * `illegal_argument_exception` is also what Elasticsearch says about the target rather
 * than the document: these reasons (matched case-insensitively) are an operator's to
 * fix (a data stream written with op type index, an alias without a write index).
 */
const OPERATOR_ILLEGAL_ARGUMENT_REASONS: readonly RegExp[] = [
  /op_type of create/i,
  /pipeline with id \[[^\]]*\] does not exist/i,
  /no write index/i,
  /alias \[[^\]]*\] has more than one index/i,
];

/** True when no change to the document could make Elasticsearch take it: the target is at fault. */
export function isOperatorError(status: number, error: BulkErrorCause | undefined): boolean {
  const type = error?.type;
  if (type !== undefined && OPERATOR_ERROR_TYPES.has(type)) return true;
  if (type === "illegal_argument_exception") {
    const reason = error?.reason ?? "";
    return OPERATOR_ILLEGAL_ARGUMENT_REASONS.some((pattern) => pattern.test(reason));
  }
  // Without a known type, 401/403/404 still say nothing about the document.
  return status === 401 || status === 403 || status === 404;
}

/**
 * Item errors answered 5xx that say nothing about the document: the cluster's state
 * (shards, nodes, queues). Any other 500 on a document sent through an ingest pipeline
 * is the pipeline failing it: a processor's own exception (`fail_processor_exception`,
 * a script's or a processor's bug) has no status of its own, so it comes back as 500.
 */
const TRANSIENT_ERROR_TYPES: ReadonlySet<string> = new Set([
  "es_rejected_execution_exception",
  "circuit_breaking_exception",
  "unavailable_shards_exception",
  "no_shard_available_action_exception",
  "primary_missing_action_exception",
  "shard_not_found_exception",
  "node_closed_exception",
  "node_disconnected_exception",
  "node_not_connected_exception",
  "connect_transport_exception",
  "send_request_transport_exception",
  "receive_timeout_transport_exception",
  "process_cluster_event_timeout_exception",
  "retry_on_primary_exception",
  "elasticsearch_timeout_exception",
]);

/** A document an ingest pipeline failed (see TRANSIENT_ERROR_TYPES); 4xx failures are rejections anyway. */
function isPipelineFailure(action: Pick<BulkAction, "pipeline">, status: number, errorType: string | undefined): boolean {
  return action.pipeline !== undefined && status === 500 && (errorType === undefined || !TRANSIENT_ERROR_TYPES.has(errorType));
}

/**
 * Classifies one item by its error type first, then its status:
 * - 2xx: indexed, or kept in the failure store when the item says so. 409
 *   (`version_conflict_engine_exception`): a version at least as new is already there
 *   (`create` of a deterministic id, or external versioning by offset with key ids), so
 *   success; but an `update` answered 409 was not applied (another writer came in
 *   between, past retry_on_conflict): retried. `delete` answered 404: already gone (the
 *   document or its whole index), success.
 * - operator errors (see `isOperatorError`, a missing ingest pipeline included):
 *   retried as `blocked`, the record held;
 * - a document an ingest pipeline failed: rejected, even when answered 500;
 * - 429 throttled, 5xx server errors, 408: retried;
 * - anything else (400 mapping, parsing, strict-mapping, illegal-argument errors about
 *   the document, oversized documents...): the document itself is wrong, a permanent
 *   per-record rejection for the failure policy.
 */
export function classifyItem(action: Pick<BulkAction, "op" | "pipeline">, item: BulkItemResult | undefined): ItemOutcome {
  const op = action.op;
  if (item === undefined || !Number.isInteger(item.status) || item.status <= 0) {
    return {
      kind: "retry",
      status: 0,
      reason: "unavailable",
      errorType: "missing_item",
      detail: "the bulk response has no result for this item",
    };
  }
  const { status } = item;
  if (status >= 200 && status < 300) return item.failure_store === "used" ? FAILURE_STORED : INDEXED;
  const errorType = item.error?.type ?? `http_${status}`;
  const detail = describeCause(item.error) || `HTTP ${status}`;
  if (status === 409) return op === "update" ? { kind: "retry", status, reason: "conflict", errorType, detail } : INDEXED;
  if (status === 404 && op === "delete") return INDEXED;
  if (isOperatorError(status, item.error)) return { kind: "retry", status, reason: "blocked", errorType, detail };
  if (isPipelineFailure(action, status, item.error?.type)) return { kind: "rejected", status, errorType, detail };
  if (status === 429) return { kind: "retry", status, reason: "throttled", errorType, detail };
  if (status >= 500) return { kind: "retry", status, reason: "server_error", errorType, detail };
  if (status === 408) return { kind: "retry", status, reason: "unavailable", errorType, detail };
  return { kind: "rejected", status, errorType, detail };
}

/** The item's result, whatever operation key the server used for it. */
function itemResult(
  entry: Partial<Readonly<Record<string, BulkItemResult>>> | undefined,
  op: BulkAction["op"],
): BulkItemResult | undefined {
  if (entry === undefined) return undefined;
  return entry[op] ?? Object.values(entry)[0];
}

/** Whether any item went to a failure store: those come with `errors: false` (status 201). */
function anyFailureStored(items: BulkResponseBody["items"]): boolean {
  for (const entry of items) {
    for (const op in entry) {
      if (entry[op]?.failure_store === "used") return true;
    }
  }
  return false;
}

/**
 * One outcome per action, by position. A response with fewer items than the request
 * (a proxy truncating it, say) gets the missing ones retried rather than assumed.
 */
export function classifyResponse(actions: readonly BulkAction[], response: BulkResponseBody): ItemOutcome[] {
  // Typed as an array, but it came off the wire: check before trusting it.
  const raw: unknown = response.items;
  const items: BulkResponseBody["items"] = Array.isArray(raw) ? response.items : [];
  if (!response.errors && items.length === actions.length && !anyFailureStored(items)) return actions.map(() => INDEXED);
  return actions.map((action, i) => classifyItem(action, itemResult(items[i], action.op)));
}
