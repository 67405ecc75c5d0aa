/**
 * `kafka-es-transfer replay`: arguments, signals and exit codes around runReplay.
 * Exit 0 when the range is done, 3 when it is done but retention had deleted part of
 * it (the partitions and offsets named), 130 when interrupted (resume file written), 1 on a
 * fatal error, 2 on bad arguments or configuration (one line, no stack trace).
 * Logs (JSON) go to stderr with the progress lines; stdout carries only the summary.
 */
import { pino } from "pino";
import type { Config } from "../config/schema.ts";
import { ConfigError, describeError, TransferError } from "../errors.ts";
import { createLogger } from "../telemetry/logger.ts";
import { parseReplayArgs, REPLAY_USAGE } from "./args.ts";
import { runReplay } from "./run.ts";

export const EXIT_INTERRUPTED = 130;
/** The range was read, but retention had deleted part of it: not "complete". */
export const EXIT_INCOMPLETE = 3;

export async function replayCommand(argv: readonly string[], config: Config): Promise<number> {
  const request = parseReplayArgs(argv, Date.now());
  if (typeof request === "string") {
    process.stderr.write(`kafka-es-transfer replay: ${request}\n\n${REPLAY_USAGE}\n`);
    return 2;
  }
  const logger = createLogger({ level: config.telemetry.logLevel, destination: pino.destination(2) });
  const interrupt = new AbortController();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals += 1;
    if (signals > 1) process.exit(EXIT_INTERRUPTED);
    process.stderr.write(`replay: ${signal}: draining in-flight records, then writing the resume file (again to exit at once)\n`);
    interrupt.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    const outcome = await runReplay(config, request, {
      logger,
      progress: (line) => process.stderr.write(`${line}\n`),
      summary: (text) => process.stdout.write(text),
      interrupt: interrupt.signal,
    });
    const codes: Record<typeof outcome, number> = { complete: 0, incomplete: EXIT_INCOMPLETE, interrupted: EXIT_INTERRUPTED, failed: 1 };
    return codes[outcome];
  } catch (error) {
    // Bad input (a missing topic, an unreadable resume file) is one line, not a stack.
    const usage = error instanceof ConfigError || (error instanceof TransferError && !error.retriable);
    process.stderr.write(`kafka-es-transfer replay: ${describeError(error)}\n`);
    return usage ? 2 : 1;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
