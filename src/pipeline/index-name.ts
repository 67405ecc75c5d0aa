/**
 * Elasticsearch index names and the templates that produce them.
 *
 * Rules enforced by Elasticsearch (MetadataCreateIndexService): lowercase only; none of
 * \ / * ? " < > | space , # :  ; must not start with - _ +; not "." or ".."; at most
 * 255 bytes. Templates are checked once against these rules, so that a configuration
 * that could only ever produce rejected names fails at startup, not per record.
 *
 * Template syntax: literal text plus brace groups. `{topic}` is the (sanitized) topic;
 * `{field:PATH}` or `{field:PATH|FALLBACK}` is the string value of a document field
 * (sanitized like the topic), FALLBACK (default "unknown") when the field is missing or
 * not a string; any other group is a date pattern made of the tokens yyyy, MM, dd, HH
 * and literal separators, e.g. `logs-{field:service.name}-{yyyy.MM.dd}`.
 */
import { ConfigError } from "../errors.ts";
import { parseFieldPath, type FieldPath } from "./field-path.ts";

export const MAX_INDEX_NAME_BYTES = 255;

const FORBIDDEN_CHARS = new Set(["\\", "/", "*", "?", '"', "<", ">", "|", " ", ",", "#", ":"]);
/** Forbidden in names, plus control characters (legal to Elasticsearch, never meant in a field value). */
// eslint-disable-next-line no-control-regex
const FORBIDDEN_GLOBAL = /[\\/*?"<>| ,#:\u0000-\u001f\u007f]/g;
const BAD_LEADING = new Set(["-", "_", "+"]);
/** Leading characters stripped from a topic that starts the name; "." too, since dot-names are hidden/system indices. */
const BAD_LEADING_TOPIC = /^[-_+.]+/;
/** Used when nothing is left of a topic after sanitizing (e.g. topic "__"). */
const EMPTY_TOPIC_FALLBACK = "topic";
/** What `{field:PATH}` renders as when the field is missing or not a string, unless `|FALLBACK` says otherwise. */
export const DEFAULT_FIELD_FALLBACK = "unknown";
const FIELD_PREFIX = "field:";

export type Granularity = "none" | "year" | "month" | "day" | "hour";

type DateToken = "yyyy" | "MM" | "dd" | "HH";
const DATE_TOKENS: readonly DateToken[] = ["yyyy", "MM", "dd", "HH"];
const TOKEN_GRANULARITY: Readonly<Record<DateToken, Granularity>> = {
  yyyy: "year",
  MM: "month",
  dd: "day",
  HH: "hour",
};
const GRANULARITY_RANK: Readonly<Record<Granularity, number>> = { none: 0, year: 1, month: 2, day: 3, hour: 4 };

type DatePiece = { readonly token: DateToken } | { readonly text: string };
/** The `{field:PATH|FALLBACK}` group of a template. */
export interface FieldSlot {
  /** As written: "service.name". */
  readonly name: string;
  readonly path: FieldPath;
  /** Rendered when the field is missing, not a string, empty once sanitized, or over the limit of values. */
  readonly fallback: string;
}

type Part =
  | { readonly kind: "literal"; readonly text: string }
  | { readonly kind: "topic" }
  | { readonly kind: "field"; readonly slot: FieldSlot }
  | { readonly kind: "date"; readonly pieces: readonly DatePiece[] };

/** A template parsed and checked once; rendering is string concatenation only. */
export interface CompiledTemplate {
  readonly source: string;
  /** The finest date unit the template uses: how long a rendered name stays valid. */
  readonly granularity: Granularity;
  /** True when `{topic}` starts the name, so its leading - _ + . must be stripped. */
  readonly topicLeads: boolean;
  /** True when `{field:...}` starts the name (same reason). */
  readonly fieldLeads: boolean;
  /** How many UTF-8 bytes each `{topic}` (and the `{field:...}`) may take so the name stays within 255 bytes. */
  readonly topicBytes: number;
  /** The field the template names, if any. */
  readonly field: FieldSlot | undefined;
  /**
   * `topic` and `fieldValue` must already be sanitized (`sanitizeTopic`,
   * `sanitizeFieldValue`); `local` is a Date whose UTC fields are the local time.
   */
  render(topic: string, local: Date, fieldValue?: string): string;
}

function literalProblem(text: string): string | undefined {
  for (const ch of text) {
    if (FORBIDDEN_CHARS.has(ch)) return `character ${JSON.stringify(ch)} is not allowed in index names`;
    if (ch !== ch.toLowerCase()) return `uppercase ${JSON.stringify(ch)} is not allowed (index names are lowercase)`;
  }
  return undefined;
}

function parseDateGroup(inner: string): readonly DatePiece[] | string {
  const pieces: DatePiece[] = [];
  let hasToken = false;
  let i = 0;
  while (i < inner.length) {
    const token = DATE_TOKENS.find((t) => inner.startsWith(t, i));
    if (token !== undefined) {
      pieces.push({ token });
      hasToken = true;
      i += token.length;
      continue;
    }
    const ch = inner.charAt(i);
    if (/[A-Za-z]/.test(ch)) break;
    const problem = literalProblem(ch);
    if (problem !== undefined) return problem;
    pieces.push({ text: ch });
    i += 1;
  }
  if (!hasToken || i < inner.length) {
    return `unknown token {${inner}} (use {topic}, {field:NAME} or a date pattern of yyyy, MM, dd, HH)`;
  }
  return pieces;
}

/** `{field:PATH}` or `{field:PATH|FALLBACK}`: the slot, or why it is invalid. */
function parseFieldGroup(inner: string): FieldSlot | string {
  const spec = inner.slice(FIELD_PREFIX.length);
  const bar = spec.indexOf("|");
  const name = bar < 0 ? spec : spec.slice(0, bar);
  const fallback = bar < 0 ? DEFAULT_FIELD_FALLBACK : spec.slice(bar + 1);
  const path = parseFieldPath(name);
  if (typeof path === "string") return `{${inner}}: ${path}`;
  if (fallback === "") return `{${inner}}: the fallback after "|" is empty`;
  const problem = literalProblem(fallback);
  if (problem !== undefined) return `{${inner}}: fallback ${JSON.stringify(fallback)}: ${problem}`;
  return { name, path, fallback };
}

function parseParts(template: string): Part[] | string {
  const parts: Part[] = [];
  let literal = "";
  const flush = (): string | undefined => {
    if (literal === "") return undefined;
    const problem = literalProblem(literal);
    parts.push({ kind: "literal", text: literal });
    literal = "";
    return problem;
  };
  let i = 0;
  while (i < template.length) {
    const ch = template.charAt(i);
    if (ch === "}") return `unbalanced braces: "}" at position ${i} has no matching "{"`;
    if (ch !== "{") {
      literal += ch;
      i += 1;
      continue;
    }
    const close = template.indexOf("}", i + 1);
    const nested = template.indexOf("{", i + 1);
    if (close < 0 || (nested >= 0 && nested < close)) {
      return `unbalanced braces: "{" at position ${i} is not closed`;
    }
    const flushed = flush();
    if (flushed !== undefined) return flushed;
    const inner = template.slice(i + 1, close);
    if (inner === "topic") {
      parts.push({ kind: "topic" });
    } else if (inner.startsWith(FIELD_PREFIX)) {
      const slot = parseFieldGroup(inner);
      if (typeof slot === "string") return slot;
      if (parts.some((p) => p.kind === "field")) return "at most one {field:...} group per template";
      parts.push({ kind: "field", slot });
    } else {
      const pieces = parseDateGroup(inner);
      if (typeof pieces === "string") return pieces;
      parts.push({ kind: "date", pieces });
    }
    i = close + 1;
  }
  const flushed = flush();
  return flushed ?? parts;
}

function firstChar(parts: readonly Part[]): string | undefined {
  const first = parts[0];
  if (first === undefined) return undefined;
  if (first.kind === "literal") return first.text.charAt(0);
  if (first.kind === "field") return first.slot.fallback.charAt(0);
  if (first.kind === "date") {
    const piece = first.pieces[0];
    return piece !== undefined && "text" in piece ? piece.text : undefined;
  }
  return undefined;
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, "0");
}

function renderToken(token: DateToken, local: Date): string {
  switch (token) {
    case "yyyy":
      return pad(local.getUTCFullYear(), 4);
    case "MM":
      return pad(local.getUTCMonth() + 1, 2);
    case "dd":
      return pad(local.getUTCDate(), 2);
    case "HH":
      return pad(local.getUTCHours(), 2);
  }
}

function compileParts(source: string): CompiledTemplate | string {
  const parts = parseParts(source);
  if (typeof parts === "string") return parts;
  if (parts.length === 0) return "must not be empty";
  const lead = firstChar(parts);
  if (lead !== undefined && BAD_LEADING.has(lead)) return `must not start with ${JSON.stringify(lead)}`;
  if (source === "." || source === "..") return `must not be ${JSON.stringify(source)}`;

  let granularity: Granularity = "none";
  let fixedBytes = 0;
  let topicCount = 0;
  for (const part of parts) {
    if (part.kind === "literal") fixedBytes += Buffer.byteLength(part.text);
    else if (part.kind === "topic" || part.kind === "field") topicCount += 1;
    else {
      for (const piece of part.pieces) {
        if ("text" in piece) {
          fixedBytes += Buffer.byteLength(piece.text);
        } else {
          fixedBytes += piece.token.length;
          const g = TOKEN_GRANULARITY[piece.token];
          if (GRANULARITY_RANK[g] > GRANULARITY_RANK[granularity]) granularity = g;
        }
      }
    }
  }
  if (fixedBytes + topicCount > MAX_INDEX_NAME_BYTES) {
    return `can never produce a name of at most ${MAX_INDEX_NAME_BYTES} bytes`;
  }
  const topicBytes = topicCount === 0 ? 0 : Math.floor((MAX_INDEX_NAME_BYTES - fixedBytes) / topicCount);
  const field = parts.find((p) => p.kind === "field")?.slot;
  if (field !== undefined && Buffer.byteLength(field.fallback) > topicBytes) {
    return `the fallback ${JSON.stringify(field.fallback)} of {field:${field.name}} is longer than the ${String(topicBytes)} bytes left for it`;
  }

  return {
    source,
    granularity,
    topicLeads: parts[0]?.kind === "topic",
    fieldLeads: parts[0]?.kind === "field",
    topicBytes,
    field,
    render(topic: string, local: Date, fieldValue = ""): string {
      let out = "";
      for (const part of parts) {
        if (part.kind === "literal") out += part.text;
        else if (part.kind === "topic") out += topic;
        else if (part.kind === "field") out += fieldValue;
        else for (const piece of part.pieces) out += "text" in piece ? piece.text : renderToken(piece.token, local);
      }
      return out;
    },
  };
}

/** Why `template` can never produce a valid index name, or undefined when it is fine. */
export function indexTemplateProblem(template: string): string | undefined {
  const compiled = compileParts(template);
  return typeof compiled === "string" ? compiled : undefined;
}

/** Why `prefix` is not a valid literal index-name prefix, or undefined ("" is fine). */
export function indexPrefixProblem(prefix: string): string | undefined {
  if (prefix === "") return undefined;
  if (prefix.includes("{") || prefix.includes("}")) return "must be literal text (no braces)";
  return indexTemplateProblem(prefix);
}

/** Throws a ConfigError naming the template and why it can never give a valid index name. */
export function validateIndexTemplate(template: string): void {
  compileIndexTemplate(template);
}

export function compileIndexTemplate(template: string): CompiledTemplate {
  const compiled = compileParts(template);
  if (typeof compiled === "string") {
    throw new ConfigError(`index template ${JSON.stringify(template)}: ${compiled}`);
  }
  return compiled;
}

function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  let out = "";
  let bytes = 0;
  for (const ch of text) {
    const size = Buffer.byteLength(ch);
    if (bytes + size > maxBytes) break;
    out += ch;
    bytes += size;
  }
  return out;
}

/** Lowercase, forbidden characters replaced by "-", leading - _ + . stripped when `leads`, cut to `maxBytes`. */
function sanitizePart(text: string, leads: boolean, maxBytes: number): string {
  let name = text.toLowerCase().replace(FORBIDDEN_GLOBAL, "-");
  if (leads) name = name.replace(BAD_LEADING_TOPIC, "");
  return truncateUtf8(name, maxBytes);
}

/**
 * A topic made safe for `template`: lowercase, forbidden characters replaced by "-",
 * leading - _ + . stripped when it starts the name, cut to fit 255 bytes.
 * (Kafka topic names are [a-zA-Z0-9._-], so in practice this lowercases and strips.)
 */
export function sanitizeTopic(topic: string, template: CompiledTemplate): string {
  const name = sanitizePart(topic, template.topicLeads, template.topicBytes);
  return name === "" ? truncateUtf8(EMPTY_TOPIC_FALLBACK, template.topicBytes) : name;
}

/**
 * A document's field value made safe for `template`'s `{field:...}` slot, as a topic
 * is; "" when nothing is left of it (the caller then renders the fallback).
 */
export function sanitizeFieldValue(value: string, template: CompiledTemplate): string {
  const name = sanitizePart(value, template.fieldLeads, template.topicBytes);
  // A name of only dots would be "." or "..", or hidden: treat it as nothing.
  return /^\.*$/.test(name) ? "" : name;
}

/** Minutes east of UTC for "UTC", "Z" or "±HH:MM" (-12:00 to +14:00); undefined when invalid. */
export function parseUtcOffset(timezone: string): number | undefined {
  if (timezone === "UTC" || timezone === "Z") return 0;
  const match = /^([+-])(\d{2}):(\d{2})$/.exec(timezone);
  if (match === null) return undefined;
  const [, sign, hh, mm] = match;
  const minutes = Number(hh) * 60 + Number(mm);
  if (Number(mm) >= 60) return undefined;
  const signed = sign === "-" ? -minutes : minutes;
  return signed < -12 * 60 || signed > 14 * 60 ? undefined : signed;
}
