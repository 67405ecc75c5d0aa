/**
 * Caps how many distinct values a free-text label (error type, skip reason, error kind)
 * may take. Those values come from Elasticsearch responses or from code paths we do
 * not fully control; an unexpected stream of distinct strings would otherwise create a
 * new time series each, and a metrics endpoint that grows without bound is an outage
 * of its own. Past the cap every new value is reported as `other`.
 */
export const OTHER_LABEL = "other";

const MAX_LABEL_LENGTH = 64;

export class BoundedLabel {
  readonly #max: number;
  readonly #seen = new Set<string>();

  constructor(maxValues: number) {
    this.#max = maxValues;
  }

  /** The value to put on the series: the input (sanitized) while under the cap, else `other`. */
  value(raw: string): string {
    if (this.#seen.has(raw)) return raw;
    const clean = sanitize(raw);
    if (this.#seen.has(clean)) return clean;
    if (this.#seen.size >= this.#max) return OTHER_LABEL;
    this.#seen.add(clean);
    return clean;
  }
}

/** Keeps label values short and free of characters that make queries awkward. */
function sanitize(raw: string): string {
  const trimmed = raw.trim().slice(0, MAX_LABEL_LENGTH).replace(/[^A-Za-z0-9_.:-]/g, "_");
  return trimmed === "" ? "unknown" : trimmed;
}
