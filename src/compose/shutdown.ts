/**
 * Stopping within `SHUTDOWN_TIMEOUT_MS`, whatever hangs: a pod is SIGKILLed at the end
 * of its grace period, and then nothing is committed and the group is not left (the
 * partitions wait for the session timeout). So the budget covers every step, not only
 * the drain: the drain gets all of it but the last min(5 s, a third), kept for the steps
 * after it (the workers stopping, the final commit and the group leave, the dead-letter
 * producer, the clients). Each step runs in turn and is abandoned at the deadline; a
 * step abandoned or skipped leaves only records unacknowledged, which the next owner of
 * their partition reads again (deterministic ids make that harmless).
 */
import { describeError } from "../errors.ts";

/** The most the steps after the drain keep for themselves. */
const MAX_RESERVE_MS = 5_000;

export interface ShutdownBudget {
  /** Until when (ms since the epoch) the drain may wait for in-flight records. */
  readonly drainUntil: number;
  /** When the whole stop must be over. */
  readonly deadline: number;
}

export function shutdownBudget(totalMs: number, startedAt: number): ShutdownBudget {
  const reserve = Math.min(MAX_RESERVE_MS, Math.floor(totalMs / 3));
  return { drainUntil: startedAt + totalMs - reserve, deadline: startedAt + totalMs };
}

export interface StopStep {
  readonly name: string;
  readonly run: () => Promise<unknown> | undefined;
}

export interface StopLogger {
  warn(fields: object, message: string): void;
}

/** Resolves true when `promise` settles before `ms` passed, false otherwise (never rejects). */
function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  if (ms <= 0) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      resolve(false);
    }, ms);
    const done = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    promise.then(done, done);
  });
}

/**
 * Runs the steps one after another, each cut at `deadline`, in the order given (the most
 * important first: nothing after the deadline runs). A step that fails is logged and the
 * next one runs. Returns the names of the steps that did not finish in time.
 */
export async function runStopSteps(steps: readonly StopStep[], deadline: number, logger: StopLogger, now: () => number = Date.now): Promise<string[]> {
  const unfinished: string[] = [];
  for (const step of steps) {
    const left = deadline - now();
    if (left <= 0) {
      unfinished.push(step.name);
      continue;
    }
    let running: Promise<unknown>;
    try {
      running = Promise.resolve(step.run()).catch((error: unknown) => {
        logger.warn({ step: step.name, err: describeError(error) }, "stop step failed");
      });
    } catch (error) {
      logger.warn({ step: step.name, err: describeError(error) }, "stop step failed");
      continue;
    }
    if (!(await settlesWithin(running, left))) unfinished.push(step.name);
  }
  if (unfinished.length > 0) {
    logger.warn({ unfinished }, "shutdown budget (SHUTDOWN_TIMEOUT_MS) spent; what is not committed will be redelivered");
  }
  return unfinished;
}
