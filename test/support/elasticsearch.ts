import { Client } from "@elastic/elasticsearch";
import { ES_NODE } from "./env.ts";

export function testElasticsearch(): Client {
  return new Client({ node: ES_NODE, requestTimeout: 30_000 });
}

function statusOf(error: unknown): number | undefined {
  if (error instanceof Error && "meta" in error) return (error as { meta?: { statusCode?: number } }).meta?.statusCode;
  return undefined;
}

/** Documents in an index after a refresh; 0 when the index does not exist yet. */
export async function countDocuments(client: Client, index: string): Promise<number> {
  try {
    await client.indices.refresh({ index });
    const { count } = await client.count({ index });
    return count;
  } catch (error) {
    if (statusOf(error) === 404) return 0;
    throw error;
  }
}

export async function deleteIndices(client: Client, pattern: string): Promise<void> {
  await client.indices.delete({ index: pattern, ignore_unavailable: true, allow_no_indices: true });
}

export interface NumericStats {
  readonly count: number;
  readonly sum: number;
  readonly min: number | null;
  readonly max: number | null;
}

/** count/sum/min/max of a numeric field over an index (sums below 2^53 are exact). */
export async function fieldStats(client: Client, index: string, field: string): Promise<NumericStats> {
  await client.indices.refresh({ index });
  const result = await client.search({ index, size: 0, track_total_hits: true, aggs: { s: { stats: { field } } } });
  const stats = result.aggregations?.s as { count: number; sum: number; min: number | null; max: number | null } | undefined;
  if (stats === undefined) throw new Error(`no stats aggregation for ${index}.${field}`);
  return { count: stats.count, sum: stats.sum, min: stats.min, max: stats.max };
}

/**
 * Walks every distinct value of an integer field with a composite aggregation (exact,
 * unlike `cardinality`): how many distinct values, and which values occur more than once.
 */
export async function distinctValues(client: Client, index: string, field: string): Promise<{ distinct: number; duplicated: number[] }> {
  await client.indices.refresh({ index });
  let after: Record<string, string | number> | undefined;
  let distinct = 0;
  const duplicated: number[] = [];
  for (;;) {
    const result = await client.search({
      index,
      size: 0,
      aggs: { v: { composite: { size: 10_000, sources: [{ v: { terms: { field } } }], ...(after ? { after } : {}) } } },
    });
    const agg = result.aggregations?.v as { buckets: { key: { v: number }; doc_count: number }[]; after_key?: Record<string, string | number> } | undefined;
    const buckets = agg?.buckets ?? [];
    for (const b of buckets) {
      distinct++;
      if (b.doc_count !== 1 && duplicated.length < 20) duplicated.push(b.key.v);
    }
    if (buckets.length === 0 || agg?.after_key === undefined) break;
    after = agg.after_key;
  }
  return { distinct, duplicated };
}

/** A document's _source by id, or undefined when absent. */
export async function getSource(client: Client, index: string, id: string): Promise<Record<string, unknown> | undefined> {
  try {
    const doc = await client.get<Record<string, unknown>>({ index, id });
    return doc._source;
  } catch (error) {
    if (statusOf(error) === 404) return undefined;
    throw error;
  }
}

/** Some documents of an index with their ids. */
export async function sampleDocuments(client: Client, index: string, size = 10): Promise<{ id: string; source: Record<string, unknown> }[]> {
  await client.indices.refresh({ index });
  const result = await client.search<Record<string, unknown>>({ index, size });
  return result.hits.hits.map((h) => ({ id: h._id ?? "", source: h._source ?? {} }));
}
