/**
 * A short, printable view of a record value for log lines about rejected or skipped
 * records: operators need to see what the bad record looked like, but a log line must
 * not carry a 10 MB payload or raw control bytes that break terminals and log parsers.
 */

export const DEFAULT_EXCERPT_BYTES = 256;

/** Above this share of unprintable characters the value is shown as hex instead of text. */
const BINARY_RATIO = 0.1;

/**
 * Text values: the first `maxBytes` bytes (never cutting a UTF-8 character in two) with
 * control characters escaped. Binary values: `<binary N bytes> hex:...` of the first
 * `maxBytes / 2` bytes. A truncated excerpt ends with `… (+N bytes)`.
 */
export function recordExcerpt(value: Buffer | null, maxBytes: number = DEFAULT_EXCERPT_BYTES): string {
  if (value === null) return "<null>";
  if (value.length === 0) return "<empty>";
  const limit = Math.max(1, Math.floor(maxBytes));

  const end = value.length <= limit ? value.length : utf8Boundary(value, limit);
  const text = value.subarray(0, end).toString("utf8");
  if (looksBinary(text)) {
    const shown = value.subarray(0, Math.max(1, Math.floor(limit / 2)));
    return `<binary ${value.length} bytes> hex:${shown.toString("hex")}${truncation(value.length - shown.length)}`;
  }
  return escapeControls(text) + truncation(value.length - end);
}

function truncation(remaining: number): string {
  return remaining > 0 ? `… (+${remaining} bytes)` : "";
}

/** The largest end <= limit that does not split a multi-byte UTF-8 sequence. */
function utf8Boundary(buffer: Buffer, limit: number): number {
  for (let i = limit - 1; i >= 0 && i >= limit - 4; i--) {
    const byte = buffer[i] ?? 0;
    if ((byte & 0xc0) === 0x80) continue; // continuation byte: keep looking for the lead
    const length = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return i + length <= limit ? limit : i;
  }
  return limit;
}

function isUnprintable(code: number): boolean {
  if (code === 0x09 || code === 0x0a || code === 0x0d) return false;
  return code < 0x20 || code === 0x7f || code === 0xfffd;
}

function looksBinary(text: string): boolean {
  let bad = 0;
  let total = 0;
  for (const char of text) {
    total++;
    if (isUnprintable(char.codePointAt(0) ?? 0)) bad++;
  }
  return bad > total * BINARY_RATIO;
}

function escapeControls(text: string): string {
  let out = "";
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (char === "\n") out += "\\n";
    else if (char === "\r") out += "\\r";
    else if (char === "\t") out += "\\t";
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, "0")}`;
    else out += char;
  }
  return out;
}
