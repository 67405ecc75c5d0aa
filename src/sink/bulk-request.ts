import type { BulkAction, PendingDocument } from "../pipeline/document.ts";

/**
 * The action-and-metadata line of one bulk item, without its newline. Only index
 * and id are user data; JSON.stringify escapes them.
 */
export function actionLine(action: BulkAction): string {
  const meta = action.id === undefined ? { _index: action.index } : { _index: action.index, _id: action.id };
  return JSON.stringify({ [action.op]: meta });
}

/**
 * The source line as sent. Sources arrive as JSON text and are embedded verbatim:
 * never parsed or re-encoded. The one exception is a raw line break, which would
 * shift every following line of the NDJSON body onto the wrong item. In valid JSON a
 * raw CR or LF can only be insignificant whitespace (inside strings they must be
 * escaped), so replacing it with a space changes nothing the server would see; in
 * invalid JSON it confines the damage to this one item.
 */
export function sourceLine(source: string): string {
  return source.includes("\n") || source.includes("\r") ? source.replace(/[\r\n]/g, " ") : source;
}

/** Elasticsearch refuses ids longer than this many UTF-8 bytes. */
export const MAX_ID_BYTES = 512;

/**
 * Why this action cannot be sent, or undefined when it can. Checked before sending
 * because the server validates an id over 512 bytes or a missing index for the whole
 * request (checked on 8.19): one such item gets every document of the batch refused
 * with a request-level 400. An empty id is refused per item anyway. An
 * `index`/`create` without a source would make the server read the next action line
 * as its source.
 */
export function invalidAction(action: BulkAction): string | undefined {
  if (action.op !== "delete" && action.source === undefined) return `${action.op} action without a source`;
  if (action.index === "") return "empty index name";
  if (action.id === "") return "empty document id";
  if (action.id !== undefined && Buffer.byteLength(action.id) > MAX_ID_BYTES) {
    return `document id longer than ${MAX_ID_BYTES} bytes`;
  }
  return undefined;
}

/** UTF-8 bytes this action adds to a bulk body, newlines included (what the batcher counts). */
export function estimateActionBytes(action: BulkAction): number {
  const meta = Buffer.byteLength(actionLine(action)) + 1;
  if (action.op === "delete" || action.source === undefined) return meta;
  return meta + Buffer.byteLength(action.source) + 1;
}

/**
 * The NDJSON body of one bulk request, items in the order given (the response lists
 * results in the same order). Every line ends with "\n", including the last, as the
 * bulk API requires. `delete` has no source line. Check `invalidAction` first.
 */
export function buildBulkBody(documents: readonly PendingDocument[]): string {
  let body = "";
  for (const { action } of documents) {
    body += actionLine(action) + "\n";
    if (action.op === "delete") continue;
    if (action.source === undefined) throw new TypeError(`${action.op} action without a source`);
    body += sourceLine(action.source) + "\n";
  }
  return body;
}
