/**
 * Liveness from the inside: each long-running loop (consumer fetch, batcher flush,
 * commit timer, lag monitor) calls `beat(name)` every time it goes round. /healthz
 * turns unhealthy when a registered loop has not beaten for `staleAfterMs`, so an
 * orchestrator restarts a process that is alive but wedged (a hung promise, a dead
 * timer) rather than only one that crashed.
 */
import type { ProbeResult } from "./probe.ts";

export interface LoopWatchdogOptions {
  /** A loop silent for longer than this makes the process unhealthy. */
  readonly staleAfterMs: number;
  readonly now?: () => number;
}

export class LoopWatchdog {
  readonly #staleAfterMs: number;
  readonly #now: () => number;
  readonly #lastBeat = new Map<string, number>();

  constructor(options: LoopWatchdogOptions) {
    this.#staleAfterMs = options.staleAfterMs;
    this.#now = options.now ?? Date.now;
  }

  /** Starts watching a loop; registering counts as a first beat. */
  register(name: string): void {
    this.#lastBeat.set(name, this.#now());
  }

  /** Stops watching a loop that ended on purpose (e.g. during shutdown). */
  unregister(name: string): void {
    this.#lastBeat.delete(name);
  }

  /** The loop went round. A beat of an unknown name registers it. */
  beat(name: string): void {
    this.#lastBeat.set(name, this.#now());
  }

  /** Healthy when every registered loop beat within `staleAfterMs`; details give seconds since each beat. */
  check(): ProbeResult {
    const now = this.#now();
    const loops: Record<string, number> = {};
    const reasons: string[] = [];
    for (const [name, last] of this.#lastBeat) {
      const silentMs = now - last;
      loops[name] = Math.round(silentMs / 100) / 10;
      if (silentMs > this.#staleAfterMs) {
        reasons.push(`loop "${name}" has not run for ${Math.round(silentMs / 1000)}s`);
      }
    }
    const [first] = reasons;
    const details = { loopSecondsSinceBeat: loops };
    return first === undefined ? { ok: true, details } : { ok: false, reason: first, reasons, details };
  }
}
