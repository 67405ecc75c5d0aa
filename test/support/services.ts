/** Starts and stops the real servers through the project's own script. */
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { ROOT } from "./env.ts";

const run = promisify(execFile);
const SCRIPT = path.join(ROOT, "test/infra/services.sh");

async function services(command: string): Promise<string> {
  const { stdout } = await run("bash", [SCRIPT, command], { timeout: 180_000 });
  return stdout;
}

export const stopElasticsearch = async (): Promise<void> => {
  await services("es-stop");
};
export const startElasticsearch = async (): Promise<void> => {
  await services("es-start");
};
/** Stops the broker, keeping its data (topics, committed offsets). */
export const stopKafka = async (): Promise<void> => {
  await services("kafka-stop");
};
export const startKafka = async (): Promise<void> => {
  await services("kafka-start");
};

/** The pid of the Elasticsearch server process (to freeze it with SIGSTOP). */
export async function elasticsearchPid(): Promise<number> {
  const pid = Number((await services("es-pid")).trim());
  if (!Number.isInteger(pid) || pid <= 0) throw new Error("Elasticsearch is not running");
  return pid;
}
/** Stops the schema registry (its schemas are kept for the next start). */
export const stopRegistry = async (): Promise<void> => {
  await services("registry-stop");
};
export const startRegistry = async (): Promise<void> => {
  await services("registry-start");
};
