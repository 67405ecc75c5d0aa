/**
 * Podman for the image smoke test, always through test/infra/podman.sh so that the
 * containers.conf this machine needs (runc, ulimits within the hard limits) applies.
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { ROOT } from "./env.ts";

const run = promisify(execFile);
const SCRIPT = path.join(ROOT, "test/infra/podman.sh");

export interface PodmanResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `podman ARGS`; never throws on a non-zero exit (the caller asserts on `code`). */
export async function podman(args: readonly string[], timeoutMs = 120_000): Promise<PodmanResult> {
  try {
    const { stdout, stderr } = await run("bash", [SCRIPT, "podman", ...args], { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: unknown; stdout?: string; stderr?: string };
    const code = typeof failed.code === "number" ? failed.code : -1;
    return { code, stdout: failed.stdout ?? "", stderr: failed.stderr ?? String(error) };
  }
}

/** `podman ARGS`, failing with podman's own words when it exits non-zero. */
export async function podmanOk(args: readonly string[], timeoutMs?: number): Promise<string> {
  const result = await podman(args, timeoutMs);
  if (result.code !== 0) throw new Error(`podman ${args.join(" ")} exited ${String(result.code)}: ${result.stderr.trim()}`);
  return result.stdout.trim();
}

/** `podman inspect --format FORMAT NAME`. */
export function inspect(name: string, format: string): Promise<string> {
  return podmanOk(["inspect", "--format", format, name]);
}
