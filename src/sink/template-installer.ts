/**
 * Installs the component and index templates of index-templates.ts, honouring
 * ownership: a template of the same name that this service did not install is left
 * alone (unless `overwrite`), and then nothing is installed, so a half-owned set never
 * composes someone else's pieces. Components go first: the index template names them.
 */
import type { Client } from "@elastic/elasticsearch";
import { describeError, TransferError } from "../errors.ts";
import { decideInstall, type InstallAction, type TemplateRequest } from "./index-templates.ts";
import type { SinkLogger } from "./observer.ts";

export interface InstallResult {
  readonly kind: TemplateRequest["kind"];
  readonly name: string;
  /**
   * What was found and done: created, updated, kept as it was, left alone (not ours),
   * or blocked (not installed because another template of the set is not ours).
   */
  readonly action: InstallAction | "blocked";
}

function statusOf(error: unknown): number | undefined {
  return (error as { meta?: { statusCode?: number } }).meta?.statusCode;
}

async function installed(es: Client, request: TemplateRequest): Promise<Record<string, unknown> | undefined> {
  try {
    if (request.kind === "index") {
      const found = await es.indices.getIndexTemplate({ name: request.name });
      return found.index_templates.find((t) => t.name === request.name)?.index_template as unknown as Record<string, unknown> | undefined;
    }
    const found = await es.cluster.getComponentTemplate({ name: request.name });
    return found.component_templates.find((t) => t.name === request.name)?.component_template as unknown as Record<string, unknown> | undefined;
  } catch (error) {
    if (statusOf(error) === 404) return undefined;
    throw error;
  }
}

async function put(es: Client, request: TemplateRequest): Promise<void> {
  // The bodies are built in index-templates.ts and checked against the real server by
  // the integration tests; the client's request types are stricter than what it sends.
  if (request.kind === "index") await es.indices.putIndexTemplate({ name: request.name, ...request.body });
  else await es.cluster.putComponentTemplate({ name: request.name, ...request.body });
}

export async function installTemplates(es: Client, requests: readonly TemplateRequest[], overwrite: boolean, logger: SinkLogger): Promise<InstallResult[]> {
  try {
    const plan: InstallResult[] = [];
    for (const request of requests) {
      plan.push({ kind: request.kind, name: request.name, action: decideInstall(await installed(es, request), request.body, overwrite) });
    }
    const foreign = plan.filter((p) => p.action === "foreign");
    if (foreign.length > 0) {
      logger.warn(
        { templates: foreign.map((p) => p.name) },
        "index templates of the same name exist and were not installed by kafka-es-transfer: left alone, nothing installed (INDEX_TEMPLATE_OVERWRITE=true replaces them)",
      );
      return plan.map((p) => (p.action === "foreign" ? p : { ...p, action: "blocked" as const }));
    }
    for (const [i, request] of requests.entries()) {
      const action = plan[i]?.action;
      if (action !== "create" && action !== "update") continue;
      await put(es, request);
      logger.info({ kind: request.kind, name: request.name, action }, `${request.kind} template ${action === "create" ? "installed" : "updated"}`);
    }
    return plan;
  } catch (error) {
    throw new TransferError(`could not install the index templates: ${describeError(error)}`, { retriable: true, cause: error });
  }
}
