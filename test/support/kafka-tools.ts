/** Kafka's own command-line tools for the tests: kcat (librdkafka) and the broker's Java tools. */
import { execFile, spawn } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { BROKERS, ROOT } from "./env.ts";

const run = promisify(execFile);

/** Runs `kcat -P -b <brokers> ...args`, piping `lines` (one record each) into it. */
export async function kcatProduce(args: readonly string[], lines: readonly string[]): Promise<void> {
  const child = spawn("kcat", ["-P", "-b", BROKERS.join(","), "-X", "acks=all", ...args], { stdio: ["pipe", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdin.end(`${lines.join("\n")}\n`);
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
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
