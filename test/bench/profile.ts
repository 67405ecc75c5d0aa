/**
 * Summary of a V8 `.cpuprofile` (from `node --cpu-prof`): where the time went, by
 * function (self and inclusive time) and by package. Also a command:
 *
 *   node test/bench/profile.ts FILE.cpuprofile [TOP]
 */
import { readFileSync } from "node:fs";
import path from "node:path";

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface ProfileEntry {
  readonly name: string;
  readonly where: string;
  readonly ms: number;
  readonly share: number;
}

export interface ProfileSummary {
  readonly file: string;
  /** Sampled time, idle excluded. */
  readonly busyMs: number;
  readonly idleMs: number;
  readonly byPackage: readonly ProfileEntry[];
  readonly topSelf: readonly ProfileEntry[];
  /** Functions of the project's own src/, by inclusive time (callees included). */
  readonly topInclusiveSrc: readonly ProfileEntry[];
}

/** "kafkajs", "@elastic/transport", "src/sink/bulk-workers.ts", "node:internal", "(garbage collector)". */
export function packageOf(frame: CallFrame): string {
  const url = frame.url;
  if (url === "") return frame.functionName.startsWith("(") ? frame.functionName : "(native)";
  const modules = url.lastIndexOf("/node_modules/");
  if (modules >= 0) {
    const rest = url.slice(modules + "/node_modules/".length).split("/");
    return rest[0]?.startsWith("@") === true ? `${rest[0]}/${rest[1] ?? ""}` : (rest[0] ?? url);
  }
  if (url.startsWith("node:")) return "node:internal";
  const src = url.lastIndexOf("/src/");
  if (src >= 0) return url.slice(src + 1);
  return path.basename(url);
}

function where(frame: CallFrame): string {
  if (frame.url === "") return "";
  const pkg = packageOf(frame);
  const file = frame.url.includes("/node_modules/") ? `${pkg}/${path.basename(frame.url)}` : pkg;
  return `${file}:${String(frame.lineNumber + 1)}`;
}

const keyOf = (frame: CallFrame): string => `${frame.functionName || "(anonymous)"}\u0000${where(frame)}`;

function top(map: Map<string, number>, total: number, limit: number): ProfileEntry[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([key, ms]) => {
      const [name = "", at = ""] = key.split("\u0000");
      return { name, where: at, ms, share: total > 0 ? ms / total : 0 };
    });
}

export function summariseProfile(file: string, limit = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  let idleUs = 0;
  let busyUs = 0;
  const byPackage = new Map<string, number>();
  const bySelf = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = nodes.get(id);
    if (node === undefined) continue;
    if (node.callFrame.functionName === "(idle)") {
      idleUs += us;
      continue;
    }
    busyUs += us;
    const pkg = packageOf(node.callFrame);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us / 1000);
    const key = keyOf(node.callFrame);
    bySelf.set(key, (bySelf.get(key) ?? 0) + us / 1000);
  }

  // Inclusive time: each node's subtree, counted once per function even under recursion.
  const inclusiveUs = new Map<number, number>();
  const subtree = (id: number): number => {
    const cached = inclusiveUs.get(id);
    if (cached !== undefined) return cached;
    const node = nodes.get(id);
    let total = node?.callFrame.functionName === "(idle)" ? 0 : (selfUs.get(id) ?? 0);
    for (const child of node?.children ?? []) total += subtree(child);
    inclusiveUs.set(id, total);
    return total;
  };
  const byInclusive = new Map<string, number>();
  const root = profile.nodes[0];
  const walk = (id: number, open: Set<string>): void => {
    const node = nodes.get(id);
    if (node === undefined) return;
    const key = keyOf(node.callFrame);
    const isSrc = packageOf(node.callFrame).startsWith("src/");
    const counted = isSrc && !open.has(key);
    if (counted) {
      byInclusive.set(key, (byInclusive.get(key) ?? 0) + subtree(id) / 1000);
      open.add(key);
    }
    for (const child of node.children ?? []) walk(child, open);
    if (counted) open.delete(key);
  };
  if (root !== undefined) walk(root.id, new Set());

  const busyMs = busyUs / 1000;
  return {
    file,
    busyMs,
    idleMs: idleUs / 1000,
    byPackage: top(byPackage, busyMs, limit).map((e) => ({ ...e, where: "" })),
    topSelf: top(bySelf, busyMs, limit),
    topInclusiveSrc: top(byInclusive, busyMs, limit),
  };
}

const pct = (share: number): string => `${(share * 100).toFixed(1)} %`;

function table(title: string, entries: readonly ProfileEntry[], withWhere: boolean): string[] {
  const lines = [`**${title}**`, "", withWhere ? "| function | where | ms | share of busy |" : "| package | ms | share of busy |", withWhere ? "|---|---|--:|--:|" : "|---|--:|--:|"];
  for (const e of entries) {
    lines.push(withWhere
      ? `| \`${e.name}\` | ${e.where} | ${e.ms.toFixed(0)} | ${pct(e.share)} |`
      : `| ${e.name} | ${e.ms.toFixed(0)} | ${pct(e.share)} |`);
  }
  lines.push("");
  return lines;
}

export function profileMarkdown(summary: ProfileSummary, limit = 15): string {
  return [
    `Profile \`${path.basename(summary.file)}\`: ${(summary.busyMs / 1000).toFixed(2)} s busy, ${(summary.idleMs / 1000).toFixed(2)} s idle (main thread samples).`,
    "",
    ...table("Self time by package", summary.byPackage.slice(0, limit), false),
    ...table("Top functions by self time", summary.topSelf.slice(0, limit), true),
    ...table("Project functions by inclusive time", summary.topInclusiveSrc.slice(0, limit), true),
  ].join("\n");
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === import.meta.filename) {
  const file = process.argv[2];
  if (file === undefined) {
    process.stderr.write("usage: node test/bench/profile.ts FILE.cpuprofile [TOP]\n");
    process.exit(2);
  }
  const limit = Number(process.argv[3] ?? 25);
  process.stdout.write(`${profileMarkdown(summariseProfile(file, limit), limit)}\n`);
}
