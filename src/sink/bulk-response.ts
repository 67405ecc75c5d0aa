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
}

/** A bulk response: items in request order, each keyed by its operation type. */
export interface BulkResponseBody {
  readonly errors: boolean;
  readonly items: readonly Partial<Readonly<Record<string, BulkItemResult>>>[];
}

/** What became of one document of a bulk request. */
export type ItemOutcome =
  | { readonly kind: "indexed" }
  | {
      readonly kind: "retry";
      readonly status: number;
      readonly reason: RetryReason;
      readonly errorType: string;
      readonly detail: string;
    }
  | { readonly kind: "rejected"; readonly status: number; readonly errorType: string; readonly detail: string };

const INDEXED: ItemOutcome = { kind: "indexed" };

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
 * Classifies one item. Retry only what time (or an operator) can fix: 429, 5xx, and
 * 401/403 (permissions, write blocks). `create` answered
 * 409 means the document with this (deterministic) id is already there: a
 * redelivery, so success. `delete` answered 404 means it is already gone (whether the
 * document or its whole index is missing): success. Every other 4xx is permanent.
 */
export function classifyItem(op: BulkAction["op"], item: BulkItemResult | undefined): ItemOutcome {
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
  if (status >= 200 && status < 300) return INDEXED;
  if (status === 409 && op === "create") return INDEXED;
  if (status === 404 && op === "delete") return INDEXED;
  const errorType = item.error?.type ?? `http_${status}`;
  const detail = describeCause(item.error) || `HTTP ${status}`;
  if (status === 429) return { kind: "retry", status, reason: "throttled", errorType, detail };
  // Missing privileges (or a write block) say nothing wrong about the document: an
  // operator can fix them, and skipping would silently drop a whole index's data.
  if (status === 401 || status === 403) return { kind: "retry", status, reason: "unavailable", errorType, detail };
  if (status >= 500) return { kind: "retry", status, reason: "server_error", errorType, detail };
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

/**
 * One outcome per action, by position. A response with fewer items than the request
 * (a proxy truncating it, say) gets the missing ones retried rather than assumed.
 */
export function classifyResponse(actions: readonly BulkAction[], response: BulkResponseBody): ItemOutcome[] {
  // Typed as an array, but it came off the wire: check before trusting it.
  const raw: unknown = response.items;
  const items: BulkResponseBody["items"] = Array.isArray(raw) ? response.items : [];
  if (!response.errors && items.length === actions.length) return actions.map(() => INDEXED);
  return actions.map((action, i) => classifyItem(action.op, itemResult(items[i], action.op)));
}
