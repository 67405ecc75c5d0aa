/**
 * `kafka-es-transfer templates [--apply]`: prints the requests that install the index
 * templates (in the Kibana console's `PUT path` + body form), and with --apply sends
 * them, honouring ownership (INDEX_TEMPLATE_OVERWRITE), and prints what it did.
 * Exit 0, 1 when Elasticsearch could not be reached or refused, 2 on bad input.
 */
import { pino } from "pino";
import type { Config } from "../config/schema.ts";
import { ConfigError, describeError } from "../errors.ts";
import { createElasticsearchClient } from "../sink/es-client.ts";
import { installTemplates } from "../sink/template-installer.ts";
import { createLogger } from "../telemetry/logger.ts";
import { templateRequests } from "./templates.ts";

export const TEMPLATES_USAGE = `usage: kafka-es-transfer templates [--apply] [--config FILE]

  prints the component and index templates INDEX_TEMPLATE_INSTALL installs at start;
  --apply installs them now (a template of the same name not installed by
  kafka-es-transfer is left alone unless INDEX_TEMPLATE_OVERWRITE=true)`;

export async function templatesCommand(argv: readonly string[], config: Config): Promise<number> {
  const unknown = argv.filter((a, i) => a !== "--apply" && a !== "--config" && !a.startsWith("--config=") && argv[i - 1] !== "--config");
  if (unknown.length > 0) {
    process.stderr.write(`kafka-es-transfer templates: unknown argument ${JSON.stringify(unknown[0])}\n\n${TEMPLATES_USAGE}\n`);
    return 2;
  }
  let requests;
  try {
    requests = templateRequests(config);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`kafka-es-transfer templates: ${error.message}\n`);
    return 2;
  }
  if (!argv.includes("--apply")) {
    for (const r of requests) {
      process.stdout.write(`PUT _${r.kind === "index" ? "index" : "component"}_template/${r.name}\n${JSON.stringify(r.body, null, 2)}\n\n`);
    }
    return 0;
  }
  const es = createElasticsearchClient(config.elasticsearch);
  const logger = createLogger({ level: config.telemetry.logLevel, destination: pino.destination(2) });
  try {
    const results = await installTemplates(es, requests, config.indexTemplates.overwrite, logger);
    for (const r of results) process.stdout.write(`${r.kind} template ${r.name}: ${r.action}\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`kafka-es-transfer templates: ${describeError(error)}\n`);
    return 1;
  } finally {
    await es.close().catch(() => undefined);
  }
}
