/**
 * Last line of defence: a promise rejection nobody handled means some component is in
 * an unknown state (a consumer half-started, a timer that stopped). Log it as one fatal
 * line and exit non-zero so the orchestrator restarts a clean process, rather than let
 * Node print a stack trace, or keep running a worker that silently consumes nothing.
 */
import type { Logger } from "pino";
import { describeError } from "../errors.ts";

/** Exit code after an unhandled rejection (1 = runtime failure, as in main.ts). */
export const UNHANDLED_REJECTION_EXIT_CODE = 1;

/** What runs on an unhandled rejection: one fatal line, then `exit`. */
export function rejectionHandler(logger: Logger, exit: (code: number) => void): (reason: unknown) => void {
  return (reason) => {
    logger.fatal({ err: describeError(reason) }, "unhandled promise rejection; exiting");
    exit(UNHANDLED_REJECTION_EXIT_CODE);
  };
}

/** Installs the handler; returns a function that removes it (for tests). */
export function installCrashGuard(logger: Logger, exit: (code: number) => void): () => void {
  const onRejection = rejectionHandler(logger, exit);
  process.on("unhandledRejection", onRejection);
  return () => {
    process.off("unhandledRejection", onRejection);
  };
}
