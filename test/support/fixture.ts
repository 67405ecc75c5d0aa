/**
 * The set-up every integration suite shares: an Elasticsearch client, a name unique
 * to this run (the topic, and the prefix of every index the suite creates) with its
 * consumer group, and clean-up after the suite.
 */
import type { Client } from "@elastic/elasticsearch";
import { after } from "node:test";
import { deleteIndices, testElasticsearch } from "./elasticsearch.ts";
import { uniqueName } from "./env.ts";
import { startElasticsearch, startRegistry } from "./services.ts";

export interface SuiteFixture {
  readonly es: Client;
  /** Unique to this run: used as the topic name, or as the prefix of several. */
  readonly name: string;
  readonly groupId: string;
}

/**
 * Call inside `describe`. With `restartsElasticsearch` (`restartsRegistry`), the clean-up
 * first makes sure Elasticsearch (the schema registry) runs again, whatever a failed
 * outage test left behind.
 */
export function suiteFixture(prefix: string, options: { restartsElasticsearch?: boolean; restartsRegistry?: boolean } = {}): SuiteFixture {
  const es = testElasticsearch();
  const name = uniqueName(prefix);
  after(async () => {
    if (options.restartsElasticsearch) await startElasticsearch();
    if (options.restartsRegistry) await startRegistry();
    // KES_KEEP_INDICES=1 keeps them to look into a failure
    if (!process.env.KES_KEEP_INDICES) await deleteIndices(es, `${name}*`);
    await es.close();
  });
  return { es, name, groupId: `${name}-group` };
}
