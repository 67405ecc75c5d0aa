/**
 * Re-renders report.md and the chart of a finished run from its report.json, so the
 * presentation can change without measuring again:
 *
 *   node test/bench/render.ts <run directory>
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { chartSvg, timelineSvg, writeChart, type ChartFiles, type ChartSeries } from "./chart.ts";
import { fmt } from "./progress.ts";
import { checkTargets, esCoresOf, reportMarkdown, type BenchReport } from "./report.ts";
import type { Variant } from "./settings.ts";

/** Per-second rates from cumulative [seconds, documents] samples. */
export function ceilingRates(samples: readonly (readonly [number, number])[]): [number, number][] {
  const rates: [number, number][] = [];
  for (let i = 1; i < samples.length; i++) {
    const [t0, d0] = samples[i - 1] ?? [0, 0];
    const [t1, d1] = samples[i] ?? [0, 0];
    if (t1 > t0) rates.push([t1, (d1 - d0) / (t1 - t0)]);
  }
  return rates;
}

export const COLORS: Record<Variant, string> = {
  json: "#1f6fb4",
  text: "#d0542c",
  avro: "#17a2b8",
  "json-gzip": "#2a9d55",
  "json-snappy": "#8e44ad",
  "json-lz4": "#c9a227",
  "json-zstd": "#5d6d7e",
};

/** The chart of the worker runs of a report: throughput and lag over time, ceiling dashed. */
export function writeWorkerChart(report: Pick<BenchReport, "variants" | "settings">, outputDir: string): ReturnType<typeof writeChart> {
  const series: ChartSeries[] = report.variants.map((v) => ({
    name: v.variant,
    color: COLORS[v.variant],
    throughput: v.worker.samples.map((s) => [s.t, s.rate] as const),
    lag: v.worker.samples.filter((s) => s.lag !== undefined).map((s) => [s.t, s.lag ?? 0] as const),
    ceiling: ceilingRates(v.esCeiling.samples),
  }));
  return writeChart(path.join(outputDir, "worker"), chartSvg(`Worker draining a backlog of ${fmt(report.settings.records)} records`, series));
}

/**
 * One timeline per variant's worker run: Elasticsearch's busy cores (against the cores it
 * had), bulk requests in flight against the adaptive limit, the queue, paused partitions.
 */
export function writePipelineCharts(report: Pick<BenchReport, "variants" | "pinning" | "machine">, outputDir: string): ChartFiles[] {
  const esCores = esCoresOf(report);
  return report.variants.map((v) => {
    const s = v.worker.samples.slice(1);
    const points = (pick: (x: (typeof s)[number]) => number | undefined): [number, number][] =>
      s.filter((x) => pick(x) !== undefined).map((x) => [x.t, pick(x) ?? 0]);
    const span = s.length === 0 ? [] : [[s[0]?.t ?? 0, esCores] as [number, number], [s.at(-1)?.t ?? 0, esCores] as [number, number]];
    return writeChart(path.join(outputDir, `pipeline-${v.variant}`), timelineSvg(`Worker run, ${v.variant}: is Elasticsearch kept busy?`, [
      { title: "Elasticsearch, cores", lines: [{ name: "used", color: "#1f6fb4", points: points((x) => x.esCores) }, { name: "its cores", color: "#444", points: span, dashed: true }] },
      { title: "Bulk requests", lines: [{ name: "in flight", color: "#d0542c", points: points((x) => x.inFlight) }, { name: "adaptive limit", color: "#444", points: points((x) => x.limit), dashed: true }] },
      { title: "Queue, records", lines: [{ name: "queued", color: "#2a9d55", points: points((x) => x.queue) }] },
      { title: "Partitions", lines: [{ name: "paused", color: "#8e44ad", points: points((x) => x.paused) }] },
    ]));
  });
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === import.meta.filename) {
  const dir = process.argv[2];
  if (dir === undefined) {
    process.stderr.write("usage: node test/bench/render.ts <run directory>\n");
    process.exit(2);
  }
  const report = JSON.parse(readFileSync(path.join(dir, "report.json"), "utf8")) as BenchReport;
  const chart = writeWorkerChart(report, dir);
  const pipelineCharts = writePipelineCharts(report, dir);
  const rendered: BenchReport = { ...report, chart, pipelineCharts, targets: checkTargets(report.variants, report.settings, report.machine.cores) };
  writeFileSync(path.join(dir, "report.md"), reportMarkdown(rendered));
  process.stdout.write(`${path.join(dir, "report.md")}\n`);
}
