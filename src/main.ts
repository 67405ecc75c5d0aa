#!/usr/bin/env -S MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=131072 node --max-semi-space-size=4 --max-old-space-size=96
/**
 * CLI entry: `kafka-es-transfer start` runs the worker, `check-config` prints the
 * effective configuration (secrets redacted). Exit codes: 0 clean stop, 1 runtime
 * failure, 2 bad configuration or usage. Bad input gets one line, never a stack trace.
 *
 * Memory bounds, passed by every launcher (this shebang, `npm start`, the image's
 * NODE_OPTIONS and ENV, the test harness; test/unit/docker/launch-flags.test.ts checks
 * they agree), chosen by measurement (issue 12, /work/notes/issue-12-mem.md):
 * - --max-old-space-size=96 (MiB): what the memory model (shared/memory-model.ts,
 *   oldSpaceFor) derives for the default configuration, whatever the brokers (the queue's
 *   byte budget caps the fetches of all brokers together). Fixed here rather than
 *   computed at start: node cannot resize its heap once running, and a launcher that
 *   re-executed itself with a computed flag would sit between the container runtime
 *   and the worker (signals, exit codes, PID 1). Start plans its heap against the limit
 *   it got: a configuration that needs more has its fetches lowered (and says so, naming
 *   the --max-old-space-size that holds them) or, when even the queue does not fit, is
 *   refused (exit 2) with the value to set. Dead Buffers (fetch responses, bulk bodies)
 *   are counted outside the heap and freed only by a full collection; a small old space
 *   triggers it sooner (issue 12: 64 MiB kept peak RSS 60 MiB lower than no limit), and
 *   96 keeps the bench's peak RSS under 200 MiB (issue 17, /work/notes/heap-ab.md).
 * - --max-semi-space-size=4 (MiB): a small young generation, less collector headroom.
 * - MALLOC_MMAP_THRESHOLD_=131072: glibc serves every allocation of 128 KiB or more
 *   (bulk bodies, fetch responses) with its own mapping, returned to the system when
 *   freed; its default threshold rises with the first large free and then keeps such
 *   buffers in the heap arenas, where freed memory stays resident.
 * - MALLOC_ARENA_MAX=2: fewer per-thread malloc arenas holding freed memory.
 */
import { loadConfig } from "./config/load.ts";
import { ConfigError, describeError } from "./errors.ts";
import type { Logger } from "pino";
import type { Config } from "./config/schema.ts";
import { installCrashGuard } from "./telemetry/crash-guard.ts";
import { createLogger } from "./telemetry/logger.ts";

// The other commands are imported when run (`import()` below), not at start: a
// long-running worker should not keep modules it never calls (issue 12, idle memory).

/** Commands with their own usage text, printed for `<command> --help`. */
const COMMAND_USAGE: Readonly<Record<string, (() => Promise<string>) | undefined>> = {
  replay: async () => (await import("./replay/args.ts")).REPLAY_USAGE,
  templates: async () => (await import("./compose/templates-command.ts")).TEMPLATES_USAGE,
};

const USAGE = `usage: kafka-es-transfer <command> [--config FILE]

commands:
  start          run the worker until SIGTERM or SIGINT
  check-config   print the effective configuration (secrets redacted) and exit;
                 exits 2 when the configuration is invalid
  healthcheck    ask a running worker's /healthz (METRICS_PORT); exit 0 when healthy
                 (the container image's HEALTHCHECK)
  templates      print the index templates INDEX_TEMPLATE_INSTALL installs
                 (--apply installs them now)
  replay         re-index the records of a time range: replay --topics T --from TIME
                 --to TIME [--index TEMPLATE], or replay --resume FILE (replay --help)
  redrive        index the records of the dead-letter topic (DLQ_TOPIC) where their
                 source records would have gone, under the same ids; stops at the
                 end offsets seen at start, prints a summary, exits 0

configuration: config/default.json, then --config FILE (or CONFIG_FILE), then
environment variables (KAFKA_BROKERS, KAFKA_GROUP_ID, KAFKA_TOPICS,
KAFKA_TOPIC_PATTERN, ES_NODE, METRICS_PORT, ...). See README.md.`;

/** `redrive`: 0 when every record up to the end offsets seen at start was settled. */
async function redrive(config: Config, logger: Logger): Promise<number> {
  if (config.deadLetter.topic === "") {
    process.stderr.write("kafka-es-transfer: redrive needs the dead-letter topic: set deadLetter.topic (DLQ_TOPIC)\n");
    return 2;
  }
  const interrupt = new AbortController();
  const onSignal = (): void => {
    interrupt.abort();
  };
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);
  const { runRedrive } = await import("./redrive/redrive.ts");
  try {
    await runRedrive(config, logger, {
      progress: (line) => process.stderr.write(`${line}\n`),
      summary: (text) => process.stdout.write(`${text}\n`),
    }, interrupt.signal);
    return 0;
  } catch (error) {
    process.stderr.write(`kafka-es-transfer: ${describeError(error)}\n`);
    return interrupt.signal.aborted ? 130 : 1;
  }
}

const KNOWN = new Set(["start", "check-config", "healthcheck", "redrive", ...Object.keys(COMMAND_USAGE)]);

/** Help and unknown commands: the exit code when answered here, undefined when the command should run. */
async function answerUsage(argv: readonly string[]): Promise<number | undefined> {
  const command = argv[0];
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined ? 2 : 0;
  }
  const usage = COMMAND_USAGE[command];
  if (usage !== undefined && (argv.includes("--help") || argv.includes("-h"))) {
    process.stdout.write(`${await usage()}\n`);
    return 0;
  }
  if (!KNOWN.has(command)) {
    process.stderr.write(`kafka-es-transfer: unknown command "${command}"\n\n${USAGE}\n`);
    return 2;
  }
  return undefined;
}

/** The configuration, or the exit code 2 after one line naming the bad value. */
function configOrExit(command: string, argv: readonly string[]): Config | number {
  try {
    // start needs topics; the one-shot commands take theirs from their own arguments.
    const needsTopics = COMMAND_USAGE[command] === undefined && command !== "redrive";
    return loadConfig({ argv: argv.slice(1), env: process.env, needsTopics });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`kafka-es-transfer: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

/** The commands that print or do one thing and exit, without the worker's logger; undefined for the others. */
async function runOneShot(command: string, argv: readonly string[], config: Config): Promise<number | undefined> {
  switch (command) {
    case "check-config": {
      const { redactedConfig } = await import("./config/redact.ts");
      process.stdout.write(`${JSON.stringify(redactedConfig(config), null, 2)}\n`);
      return 0;
    }
    case "healthcheck": {
      const { runHealthcheck } = await import("./telemetry/healthcheck.ts");
      const outcome = await runHealthcheck(config.telemetry.metricsHost, config.telemetry.metricsPort);
      process.stdout.write(`${outcome.message}\n`);
      return outcome.healthy ? 0 : 1;
    }
    case "replay":
      return (await import("./replay/command.ts")).replayCommand(argv.slice(1), config);
    case "templates":
      return (await import("./compose/templates-command.ts")).templatesCommand(argv.slice(1), config);
    default:
      return undefined;
  }
}

/** `start`: runs until a signal (drain, commit, exit 0) or a fatal error (exit 1). */
async function runWorker(config: Config, logger: Logger): Promise<number> {
  let app;
  try {
    app = await (await import("./app.ts")).startApp(config, logger);
  } catch (error) {
    if (error instanceof (await import("./compose/memory.ts")).MemoryRefusedError) {
      // A configuration the process cannot run (the memory model): one line, exit 2.
      process.stderr.write(`kafka-es-transfer: ${error.message}\n`);
      return 2;
    }
    logger.fatal({ err: describeError(error) }, "could not start");
    return 1;
  }
  const running = app;
  return new Promise<number>((resolve) => {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      signals += 1;
      if (signals > 1) {
        // A second signal means "now": whatever is in flight will be fetched again.
        logger.warn({ signal }, "second signal: exiting at once");
        process.exit(130);
      }
      logger.info({ signal }, "stopping: draining in-flight records, then committing");
      running.stop(`signal ${signal}`).then(
        () => { resolve(0); },
        (error: unknown) => {
          logger.error({ err: describeError(error) }, "unclean stop");
          resolve(1);
        },
      );
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
    running.finished.then(
      (outcome) => {
        if (outcome.kind === "failed") {
          logger.fatal({ err: describeError(outcome.error) }, "worker stopped on a fatal error");
          resolve(1);
        }
      },
      (error: unknown) => {
        logger.fatal({ err: describeError(error) }, "worker crashed");
        resolve(1);
      },
    );
  });
}

async function main(argv: string[]): Promise<number> {
  const answered = await answerUsage(argv);
  if (answered !== undefined) return answered;
  const command = argv[0] ?? "start";
  const config = configOrExit(command, argv);
  if (typeof config === "number") return config;
  const oneShot = await runOneShot(command, argv, config);
  if (oneShot !== undefined) return oneShot;

  const logger = createLogger({ level: config.telemetry.logLevel });
  installCrashGuard(logger, (code) => {
    process.exitCode = code;
    // Let pino flush the fatal line first.
    setTimeout(() => process.exit(code), 200).unref();
  });
  return command === "redrive" ? redrive(config, logger) : runWorker(config, logger);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Let pino flush, then leave even if a library left a handle open.
    setTimeout(() => process.exit(code), 200).unref();
  },
  (error: unknown) => {
    process.stderr.write(`kafka-es-transfer: ${describeError(error)}\n`);
    process.exit(1);
  },
);
