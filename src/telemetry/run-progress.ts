/**
 * Progress and summary of a bounded run (replay, and any other command that works
 * through a known amount and ends): pure arithmetic and formatting, no clock and no
 * output of its own. The caller samples "units left" now and then; the rate is taken
 * over a sliding window so the ETA follows the current speed, not the average since
 * start (the first seconds include connecting and joining).
 */

export interface ProgressSnapshot {
  readonly total: number;
  readonly done: number;
  readonly left: number;
  readonly elapsedMs: number;
  /** Units per second over the window; undefined until two samples are apart. */
  readonly ratePerSec: number | undefined;
  /** Time to finish at that rate; undefined without a rate, 0 when nothing is left. */
  readonly etaMs: number | undefined;
}

interface Sample {
  readonly at: number;
  readonly done: number;
}

export class RunProgress {
  readonly #total: number;
  readonly #startedAt: number;
  readonly #windowMs: number;
  #samples: Sample[] = [];

  constructor(total: number, startedAt: number, windowMs = 30_000) {
    this.#total = Math.max(0, total);
    this.#startedAt = startedAt;
    this.#windowMs = windowMs;
  }

  /** Records that `left` units remain at time `now` (ms) and returns the figures. */
  update(now: number, left: number): ProgressSnapshot {
    const clampedLeft = Math.min(this.#total, Math.max(0, left));
    const done = this.#total - clampedLeft;
    this.#samples.push({ at: now, done });
    // Keep one sample older than the window so the rate always spans the whole window.
    while (this.#samples.length > 2 && (this.#samples[1]?.at ?? now) <= now - this.#windowMs) this.#samples.shift();
    const first = this.#samples[0];
    const span = first === undefined ? 0 : now - first.at;
    const ratePerSec = first === undefined || span <= 0 ? undefined : ((done - first.done) * 1000) / span;
    let etaMs: number | undefined;
    if (clampedLeft === 0) etaMs = 0;
    else if (ratePerSec !== undefined && ratePerSec > 0) etaMs = (clampedLeft / ratePerSec) * 1000;
    return { total: this.#total, done, left: clampedLeft, elapsedMs: now - this.#startedAt, ratePerSec, etaMs };
  }
}

/** "1h02m", "3m05s", "12s", "0s". */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return `${String(h)}h${String(m).padStart(2, "0")}m`;
  if (m > 0) return `${String(m)}m${String(s).padStart(2, "0")}s`;
  return `${String(s)}s`;
}

/** One progress line, e.g. "replay: 45.0% (4500/10000), 5500 left, 1200/s, ETA 4s". */
export function formatProgress(label: string, p: ProgressSnapshot): string {
  const percent = p.total === 0 ? 100 : (p.done * 100) / p.total;
  const rate = p.ratePerSec === undefined ? "rate -" : `${String(Math.round(p.ratePerSec))}/s`;
  const eta = p.etaMs === undefined ? "ETA -" : `ETA ${formatDuration(p.etaMs)}`;
  return `${label}: ${percent.toFixed(1)}% (${String(p.done)}/${String(p.total)}), ${String(p.left)} left, ${rate}, ${eta}`;
}

export interface RunSummary {
  readonly title: string;
  readonly elapsedMs: number;
  /** Label -> figure, in order (e.g. records read, indexed, rejected). */
  readonly figures: readonly (readonly [string, number | string])[];
  /** Per index (or any other breakdown): name -> count, printed sorted by name. */
  readonly breakdown?: { readonly label: string; readonly counts: ReadonlyMap<string, number> };
}

/** A multi-line summary, aligned, ending with a newline. */
export function formatSummary(summary: RunSummary): string {
  const rows: [string, string][] = summary.figures.map(([label, value]) => [label, String(value)]);
  rows.push(["elapsed", formatDuration(summary.elapsedMs)]);
  const width = Math.max(...rows.map(([label]) => label.length));
  let out = `${summary.title}\n`;
  for (const [label, value] of rows) out += `  ${label.padEnd(width)}  ${value}\n`;
  const breakdown = summary.breakdown;
  if (breakdown !== undefined && breakdown.counts.size > 0) {
    out += `  ${breakdown.label}:\n`;
    for (const name of [...breakdown.counts.keys()].sort()) out += `    ${name}  ${String(breakdown.counts.get(name) ?? 0)}\n`;
  }
  return out;
}
