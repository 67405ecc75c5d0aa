/** Starts and stops the real servers through the project's own script. */
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { ROOT } from "./env.ts";

const run = promisify(execFile);
const SCRIPT = path.join(ROOT, "test/infra/services.sh");

async function services(command: string): Promise<void> {
  await run("bash", [SCRIPT, command], { timeout: 180_000 });
}

export const stopElasticsearch = (): Promise<void> => services("es-stop");
export const startElasticsearch = (): Promise<void> => services("es-start");
