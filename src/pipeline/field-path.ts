/**
 * A field of a document named by a dotted path ("service.name"), resolved the way
 * Elasticsearch resolves it: `{"service":{"name":"x"}}`, `{"service.name":"x"}` and
 * mixes such as `{"service":{"name.first":...}}` all name the same field. When a
 * document holds the field more than once (both spellings), the first in document
 * order counts: the JSON scanner (json-scan.ts), which reads it from the record's bytes
 * without building the object, and `readField`, for decoders that build one, agree.
 */

/** The path's segments: "service.name" -> ["service", "name"]. */
export type FieldPath = readonly string[];

/**
 * What a document holds at a path: the string; `null` when the field is there but is
 * no string (a number, boolean, null, object or array); `undefined` when it is absent.
 */
export type FieldRead = string | null | undefined;

/** The segments of `text`, or why it is no field path (empty segments; braces and "|" are template syntax). */
export function parseFieldPath(text: string): FieldPath | string {
  if (text === "") return "the field name is empty";
  if (/[{}|]/.test(text)) return `field ${JSON.stringify(text)}: "{", "}" and "|" are not allowed in a field name`;
  const segments = text.split(".");
  if (segments.some((s) => s === "")) return `field ${JSON.stringify(text)}: must not start or end with "." or contain ".."`;
  return segments;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** How many segments of `path` from `from` the key `key` spells ("a.b" spells two), or 0. */
export function segmentsSpelled(key: string, path: FieldPath, from: number): number {
  let at = 0;
  for (let i = from; i < path.length; i++) {
    const segment = path[i] ?? "";
    if (!key.startsWith(segment, at)) return 0;
    at += segment.length;
    if (at === key.length) return i - from + 1;
    if (key.charCodeAt(at) !== 0x2e) return 0;
    at += 1;
  }
  return 0;
}

function readFrom(node: Record<string, unknown>, path: FieldPath, from: number): FieldRead {
  for (const key of Object.keys(node)) {
    const spelled = segmentsSpelled(key, path, from);
    if (spelled === 0) continue;
    const value = node[key];
    if (from + spelled === path.length) return typeof value === "string" ? value : null;
    if (!isObject(value)) continue;
    const found = readFrom(value, path, from + spelled);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The value at `path` in a decoded document (see FieldRead). */
export function readField(document: unknown, path: FieldPath): FieldRead {
  if (!isObject(document) || path.length === 0) return undefined;
  return readFrom(document, path, 0);
}
