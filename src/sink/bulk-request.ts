import { isSpliced, sourceByteLength, writeSpliced, type BulkAction, type DocumentSource, type PendingDocument } from "../pipeline/document.ts";

/** The head of an action line for one (op, index), kept for the next action: a batch mostly goes to one index. */
let lastHead = { op: "", index: "", text: "" };

function actionHead(op: BulkAction["op"], index: string): string {
  if (lastHead.op !== op || lastHead.index !== index) {
    lastHead = { op, index, text: `{"${op}":{"_index":${JSON.stringify(index)}` };
  }
  return lastHead.text;
}

/**
 * Elasticsearch retries an update this many times itself when another write to the
 * document came in between (its get-then-index; a second writer only appears while a
 * partition moves between workers).
 */
export const UPDATE_RETRIES_ON_CONFLICT = 3;

/**
 * The action-and-metadata line of one bulk item, without its newline. Only index,
 * id and pipeline are user data; JSON.stringify escapes them. A `version` adds external
 * versioning (`version_type: external`). Built as text around a cached head rather
 * than by stringifying an object per record: the same bytes, for a fraction of the
 * work (it runs once per record).
 */
export function actionLine(action: BulkAction): string {
  let line = actionHead(action.op, action.index);
  if (action.id !== undefined) line += `,"_id":${JSON.stringify(action.id)}`;
  if (action.version !== undefined) {
    // Written as a raw JSON number: an int64 offset may exceed 2^53, so it never becomes a JS number.
    if (!/^\d{1,19}$/.test(action.version)) throw new TypeError(`invalid external version ${JSON.stringify(action.version)}`);
    line += `,"version":${action.version},"version_type":"external"`;
  }
  if (action.pipeline !== undefined) line += `,"pipeline":${JSON.stringify(action.pipeline)}`;
  if (action.op === "update") line += `,"retry_on_conflict":${String(UPDATE_RETRIES_ON_CONFLICT)}`;
  return `${line}}}`;
}

/**
 * The source line as sent. Sources arrive as JSON and are embedded verbatim: never
 * parsed or re-encoded. The one exception is a raw line break, which would shift
 * every following line of the NDJSON body onto the wrong item. In valid JSON a raw CR
 * or LF can only be insignificant whitespace (inside strings they must be escaped),
 * so replacing it with a space changes nothing the server would see; in invalid JSON
 * it confines the damage to this one item. Same length in bytes either way.
 */
export function sourceLine(source: string): string {
  return source.includes("\n") || source.includes("\r") ? source.replace(/[\r\n]/g, " ") : source;
}

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;

/** Whether `source` holds a raw CR or LF (`indexOf` is native: memchr speed). */
function hasLineBreak(source: Buffer): boolean {
  return source.indexOf(LF) >= 0 || source.indexOf(CR) >= 0;
}

/** `sourceLine` for bytes already copied to `body[from, to)`: blanks CR/LF in place. */
function blankLineBreaks(body: Buffer, from: number, to: number): void {
  for (let i = from; i < to; i++) {
    if (body[i] === LF || body[i] === CR) body[i] = SPACE;
  }
}

/** Copies bytes of a source into `body` at `at`, blanking raw line breaks; returns the new end. */
function copySourceBytes(body: Buffer, at: number, source: Buffer): number {
  const end = at + source.copy(body, at);
  if (hasLineBreak(source)) blankLineBreaks(body, at, end);
  return end;
}

/** Writes one source line (without its newline) into `body` at `at`; returns the new end. */
function writeSource(body: Buffer, at: number, source: DocumentSource): number {
  if (typeof source === "string") return at + body.write(sourceLine(source), at, "utf8");
  if (!isSpliced(source)) return copySourceBytes(body, at, source);
  // Head and tail are JSON.stringify output and literal punctuation: no raw line break.
  return writeSpliced(body, at, source, copySourceBytes);
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

/**
 * UTF-8 bytes this action adds to a bulk body, newlines included (what the batcher
 * counts). Pass `line` when the action line is already serialized.
 */
export function estimateActionBytes(action: BulkAction, line: string = actionLine(action)): number {
  const meta = Buffer.byteLength(line) + 1;
  if (action.op === "delete" || action.source === undefined) return meta;
  return meta + sourceByteLength(action.source) + 1;
}

/**
 * The NDJSON body of one bulk request, items in the order given (the response lists
 * results in the same order). Every line ends with "\n", including the last, as the
 * bulk API requires. `delete` has no source line; `update`'s is the `{"doc":...}` body. Check `invalidAction` first.
 *
 * Built as one Buffer of the exact size: sources are copied once, as bytes, and the
 * transport sends the Buffer as is (a string body would be flattened, measured and
 * encoded again on the way out).
 */
export function buildBulkBody(documents: readonly PendingDocument[]): Buffer {
  const lines: string[] = [];
  let size = 0;
  for (const document of documents) {
    const action = document.action;
    const line = document.actionLine ?? actionLine(action);
    lines.push(line);
    size += Buffer.byteLength(line) + 1;
    if (action.op === "delete") continue;
    if (action.source === undefined) throw new TypeError(`${action.op} action without a source`);
    size += sourceByteLength(action.source) + 1;
  }
  const body = Buffer.allocUnsafe(size);
  let at = 0;
  documents.forEach(({ action }, i) => {
    at += body.write(lines[i] ?? "", at, "utf8");
    body[at++] = LF;
    const source = action.source;
    if (action.op === "delete" || source === undefined) return;
    at = writeSource(body, at, source);
    body[at++] = LF;
  });
  // Every byte of the unzeroed buffer must have been written: anything else is a bug
  // that would send stale memory to the server.
  if (at !== size) throw new Error(`bulk body size mismatch: wrote ${at} of ${size} bytes`);
  return body;
}
