/**
 * Progress while the bench runs: on a terminal one line rewritten in place every
 * second; elsewhere (CI logs, pipes) a new line every few seconds so logs stay short.
 */
const PLAIN_EVERY_MS = 5_000;

export const fmt = (n: number, digits = 0): string =>
  Number.isFinite(n) ? n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits }) : "n/a";

export class Progress {
  readonly #tty = process.stdout.isTTY;
  #lastPlain = 0;
  #open = false;

  /** Shows `text` as the current state of a phase. */
  update(text: string): void {
    if (this.#tty) {
      process.stdout.write(`\r\x1b[2K${text}`);
      this.#open = true;
      return;
    }
    const now = Date.now();
    if (now - this.#lastPlain < PLAIN_EVERY_MS) return;
    this.#lastPlain = now;
    process.stdout.write(`${text}\n`);
  }

  /** A line that stays: ends the in-place line first. */
  log(text: string): void {
    if (this.#open) process.stdout.write("\r\x1b[2K");
    this.#open = false;
    this.#lastPlain = 0;
    process.stdout.write(`${text}\n`);
  }
}

export const progress = new Progress();
