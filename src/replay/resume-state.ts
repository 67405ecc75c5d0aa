/**
 * The resume file: everything a later `replay --resume FILE` needs to continue an
 * interrupted run exactly where the settled records end. Plain JSON, times also in
 * ISO form so an operator can read it. Written atomically (see replay/run.ts).
 */
import type { PartitionPlan, TimeRange } from "../source/replay/replay-plan.ts";

export const RESUME_STATE_VERSION = 1;

export interface ResumeState {
  readonly topics: readonly string[];
  readonly range: TimeRange;
  /** The --index override of the run, undefined when the configured routing applies. */
  readonly index: string | undefined;
  readonly partitions: readonly PartitionPlan[];
  /**
   * What retention deleted of the range before it was read, one line per partition
   * (describeLosses), carried over to the resumed run so that it does not end "complete".
   */
  readonly lost?: readonly string[];
}

export function serializeResumeState(state: ResumeState): string {
  return `${JSON.stringify(
    {
      version: RESUME_STATE_VERSION,
      topics: state.topics,
      from: new Date(state.range.from).toISOString(),
      to: new Date(state.range.to).toISOString(),
      fromMs: state.range.from,
      toMs: state.range.to,
      index: state.index ?? null,
      partitions: state.partitions.map(({ topic, partition, start, end, next }) => ({ topic, partition, start, end, next })),
      ...(state.lost !== undefined && state.lost.length > 0 ? { lost: state.lost } : {}),
    },
    null,
    2,
  )}\n`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const OFFSET = /^\d+$/;

function parsePartition(value: unknown, i: number): PartitionPlan | string {
  if (!isObject(value)) return `partitions[${String(i)}] is not an object`;
  const { topic, partition, start, end, next } = value;
  if (typeof topic !== "string" || topic === "") return `partitions[${String(i)}].topic must be a topic name`;
  if (typeof partition !== "number" || !Number.isSafeInteger(partition) || partition < 0) {
    return `partitions[${String(i)}].partition must be a non-negative integer`;
  }
  for (const [name, offset] of [["start", start], ["end", end], ["next", next]] as const) {
    if (typeof offset !== "string" || !OFFSET.test(offset)) return `partitions[${String(i)}].${name} must be a decimal offset string`;
  }
  const [s, e, n] = [BigInt(start as string), BigInt(end as string), BigInt(next as string)];
  if (!(s <= n && n <= e)) return `partitions[${String(i)}]: needs start <= next <= end`;
  return { topic, partition, start: start as string, end: end as string, next: next as string };
}

/** The state in `text`, or a one-line reason it is not a resume file of this version. */
export function parseResumeState(text: string): ResumeState | string {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return "not valid JSON";
  }
  if (!isObject(doc)) return "not a JSON object";
  if (doc.version !== RESUME_STATE_VERSION) return `version must be ${String(RESUME_STATE_VERSION)}, found ${JSON.stringify(doc.version)}`;
  const { topics, fromMs, toMs, index, partitions, lost } = doc;
  if (lost !== undefined && !(Array.isArray(lost) && lost.every((l) => typeof l === "string"))) return "lost must be a list of strings";
  if (!Array.isArray(topics) || topics.length === 0 || !topics.every((t) => typeof t === "string" && t !== "")) {
    return "topics must be a non-empty list of topic names";
  }
  if (typeof fromMs !== "number" || typeof toMs !== "number" || !(fromMs < toMs)) return "fromMs and toMs must be numbers with fromMs < toMs";
  if (index !== null && typeof index !== "string") return "index must be a string or null";
  if (!Array.isArray(partitions)) return "partitions must be a list";
  const plans: PartitionPlan[] = [];
  for (const [i, value] of partitions.entries()) {
    const plan = parsePartition(value, i);
    if (typeof plan === "string") return plan;
    plans.push(plan);
  }
  const state = { topics: topics as string[], range: { from: fromMs, to: toMs }, index: index ?? undefined, partitions: plans };
  return lost === undefined ? state : { ...state, lost };
}
