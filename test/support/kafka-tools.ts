/** Kafka's own command-line tools for the tests: kcat (librdkafka) and the broker's Java tools. */
import { execFile, spawn } from "node:child_process";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { promisify } from "node:util";
import { BROKERS, ROOT } from "./env.ts";

const run = promisify(execFile);

/** `lines` as newline-ended chunks of about 64 KiB: kcat's stdin gets them with back-pressure. */
function* lineChunks(lines: Iterable<string>): Generator<string> {
  let chunk = "";
  for (const line of lines) {
    chunk += `${line}\n`;
    if (chunk.length >= 65_536) {
      yield chunk;
      chunk = "";
    }
  }
  if (chunk !== "") yield chunk;
}

/**
 * Runs `kcat -P -b <brokers> ...args`, piping `lines` (one record each) into it; streamed,
 * so that a backlog of millions of records is never one string in the test process.
 */
export async function kcatProduce(args: readonly string[], lines: Iterable<string>): Promise<void> {
  const child = spawn("kcat", ["-P", "-b", BROKERS.join(","), "-X", "acks=all", ...args], { stdio: ["pipe", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  // a kcat that died early breaks the pipe: its exit code and stderr say why, below
  await pipeline(Readable.from(lineChunks(lines)), child.stdin).catch(() => undefined);
  const code = await exited;
  if (code !== 0) throw new Error(`kcat ${args.join(" ")} exited with ${String(code)}: ${stderr}`);
}

let home: Promise<string> | undefined;

/** The Kafka distribution the servers run from (services.sh fetches it once). */
export function kafkaHome(): Promise<string> {
  home ??= run("bash", [path.join(ROOT, "test/infra/services.sh"), "fetch"], { timeout: 600_000 }).then(({ stdout }) => {
    const found = /^kafka: (.+)$/m.exec(stdout)?.[1];
    if (found === undefined) throw new Error(`services.sh fetch did not name the Kafka home:\n${stdout}`);
    return found;
  });
  return home;
}

/** Runs a Java main class of the Kafka distribution (or a single-file Java source) on its classpath. */
export async function kafkaJava(main: string, args: readonly string[], timeoutMs = 300_000): Promise<string> {
  const { stdout } = await run("java", ["-cp", `${await kafkaHome()}/libs/*`, "-Dlog4j.configuration=file:/dev/null", main, ...args], { timeout: timeoutMs });
  return stdout;
}
