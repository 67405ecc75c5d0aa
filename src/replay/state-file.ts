/** Reading and writing the resume file; writes are atomic (temporary file, then rename). */
import { randomBytes } from "node:crypto";
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { ConfigError, describeError } from "../errors.ts";
import { parseResumeState, serializeResumeState, type ResumeState } from "./resume-state.ts";

export async function readResumeFile(file: string): Promise<ResumeState> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new ConfigError(`--resume ${file}: cannot read it (${typeof code === "string" ? code : describeError(error)})`);
  }
  const state = parseResumeState(text);
  if (typeof state === "string") throw new ConfigError(`--resume ${file}: not a replay resume file: ${state}`);
  return state;
}

/** A crash mid-write leaves the previous state intact, never half a file. */
export async function writeResumeFile(file: string, state: ResumeState): Promise<void> {
  const temporary = `${file}.${randomBytes(4).toString("hex")}.tmp`;
  await writeFile(temporary, serializeResumeState(state));
  await rename(temporary, file);
}

export async function removeResumeFile(file: string): Promise<void> {
  await rm(file, { force: true });
}
