/**
 * `kafka-es-transfer replay` arguments -> what to replay. Either a fresh range
 * (--topics, --from, --to, optional --index) or --resume FILE, which carries its own
 * topics, range and index: mixing the two is refused rather than silently ignored.
 * --config FILE belongs to the configuration loader and is accepted here untouched.
 */
import { parseArgs } from "node:util";
import { indexTemplateProblem } from "../pipeline/index-name.ts";
import type { TimeRange } from "../source/replay/replay-plan.ts";
import { parseTimeRange } from "./time.ts";

export type ReplayRequest =
  | {
      readonly kind: "fresh";
      readonly topics: readonly string[];
      readonly range: TimeRange;
      readonly index: string | undefined;
      /** Where the resume state is kept; undefined = a name chosen by the run. */
      readonly resumeFile: string | undefined;
    }
  | { readonly kind: "resume"; readonly resumeFile: string };

export const REPLAY_USAGE = `usage: kafka-es-transfer replay --topics T[,U] --from TIME --to TIME [--index TEMPLATE] [--resume-file FILE] [--config FILE]
       kafka-es-transfer replay --resume FILE [--config FILE]

  TIME: ISO 8601 with a zone (2026-11-30T06:00:00Z, 2026-11-30), relative to now
        (-2h, -30m, -1d), now, or epoch milliseconds. The range is [from, to) in record time.
  --index TEMPLATE  write every record to this index template ({topic}, {yyyy.MM.dd}...)
                    instead of the configured routing (topic map and prefix do not apply)
  --resume-file FILE  where the resume state is kept (default replay-<id>.resume.json)
  --resume FILE     continue an interrupted replay from its resume file`;

const TOPIC = /^[A-Za-z0-9._-]{1,249}$/;

function parseTopics(text: string): readonly string[] | string {
  const topics = text.split(",").map((t) => t.trim()).filter((t) => t !== "");
  if (topics.length === 0) return "--topics needs at least one topic";
  const bad = topics.find((t) => !TOPIC.test(t));
  if (bad !== undefined) return `--topics: ${JSON.stringify(bad)} is not a valid topic name`;
  return [...new Set(topics)];
}

const OPTIONS = ["topics", "from", "to", "index", "resume", "resume-file", "config"] as const;

/**
 * `--from -2h` is the natural way to write a relative time, but node's parseArgs takes
 * a value starting with "-" for a forgotten argument: glue each option to its value.
 */
function glueValues(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    const next = argv[i + 1];
    if (OPTIONS.some((o) => arg === `--${o}`) && next !== undefined && !(next.startsWith("--") && next.length > 2)) {
      out.push(`${arg}=${next}`);
      i += 1;
    } else out.push(arg);
  }
  return out;
}

/** The request, or a one-line reason naming the offending argument. */
export function parseReplayArgs(argv: readonly string[], now: number): ReplayRequest | string {
  let values;
  try {
    ({ values } = parseArgs({
      args: glueValues(argv),
      options: {
        topics: { type: "string" },
        from: { type: "string" },
        to: { type: "string" },
        index: { type: "string" },
        resume: { type: "string" },
        "resume-file": { type: "string" },
        config: { type: "string" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  if (values.resume !== undefined) {
    const mixed = (["topics", "from", "to", "index", "resume-file"] as const).filter((name) => values[name] !== undefined);
    if (mixed.length > 0) return `--resume takes the topics, range and index from its file; leave out ${mixed.map((m) => `--${m}`).join(", ")}`;
    return { kind: "resume", resumeFile: values.resume };
  }
  if (values.topics === undefined || values.from === undefined || values.to === undefined) {
    return "replay needs --topics, --from and --to (or --resume FILE)";
  }
  const topics = parseTopics(values.topics);
  if (typeof topics === "string") return topics;
  const range = parseTimeRange(values.from, values.to, now);
  if (typeof range === "string") return range;
  if (values.index !== undefined) {
    const problem = indexTemplateProblem(values.index);
    if (problem !== undefined) return `--index ${JSON.stringify(values.index)}: ${problem}`;
  }
  return { kind: "fresh", topics, range, index: values.index, resumeFile: values["resume-file"] };
}
