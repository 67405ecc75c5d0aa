/**
 * The chart of the worker runs: records indexed per second (top) and consumer lag
 * (bottom) over time, one line per variant, the Elasticsearch ceiling as a dashed line.
 * Drawn as SVG by hand (no dependency), then rasterised to PNG by `rsvg-convert`
 * (Debian: librsvg2-bin) when it is installed.
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";

export interface ChartSeries {
  readonly name: string;
  readonly color: string;
  /** [seconds, records/s] */
  readonly throughput: readonly (readonly [number, number])[];
  /** [seconds, records] */
  readonly lag: readonly (readonly [number, number])[];
  /** Records/s of the Elasticsearch ceiling run over its own time, drawn thin and dashed. */
  readonly ceiling?: readonly (readonly [number, number])[];
}

const WIDTH = 1000;
const HEIGHT = 660;
const MARGIN = { left: 84, right: 24, top: 64, bottom: 48 };
const GAP = 56;
const FONT = "DejaVu Sans, Helvetica, Arial, sans-serif";

/** A round step giving about `count` intervals up to `max` (1, 2, 2.5, 5 times a power of ten). */
export function niceStep(max: number, count = 5): number {
  if (!(max > 0)) return 1;
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw);
  return step ?? 10 * power;
}

/** 1,500 -> "1.5k", 2,000,000 -> "2M". */
export function shortNumber(value: number): string {
  const abs = Math.abs(value);
  const trim = (n: number): string => String(Number(n.toFixed(2)));
  if (abs >= 1e6) return `${trim(value / 1e6)}M`;
  if (abs >= 1e3) return `${trim(value / 1e3)}k`;
  return trim(value);
}

const escape = (text: string): string => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

interface Panel {
  readonly title: string;
  readonly top: number;
  readonly height: number;
  readonly yMax: number;
  readonly lines: readonly { points: readonly (readonly [number, number])[]; color: string; dashed?: boolean }[];
}

function panelSvg(panel: Panel, xMax: number, xStep: number): string {
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const x = (t: number): number => MARGIN.left + (t / xMax) * plotWidth;
  const y = (v: number): number => panel.top + panel.height - (Math.min(v, panel.yMax) / panel.yMax) * panel.height;
  const parts: string[] = [];
  parts.push(`<text x="${String(MARGIN.left)}" y="${String(panel.top - 10)}" font-size="15" font-weight="bold">${escape(panel.title)}</text>`);
  const yStep = niceStep(panel.yMax);
  for (let v = 0; v <= panel.yMax + 1e-9; v += yStep) {
    parts.push(`<line x1="${String(MARGIN.left)}" x2="${String(WIDTH - MARGIN.right)}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e4e4e4"/>`);
    parts.push(`<text x="${String(MARGIN.left - 8)}" y="${(y(v) + 4).toFixed(1)}" font-size="12" text-anchor="end" fill="#444">${shortNumber(v)}</text>`);
  }
  for (let t = 0; t <= xMax + 1e-9; t += xStep) {
    parts.push(`<line x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${String(panel.top)}" y2="${String(panel.top + panel.height)}" stroke="#f0f0f0"/>`);
    parts.push(`<text x="${x(t).toFixed(1)}" y="${String(panel.top + panel.height + 16)}" font-size="12" text-anchor="middle" fill="#444">${shortNumber(t)}</text>`);
  }
  parts.push(`<rect x="${String(MARGIN.left)}" y="${String(panel.top)}" width="${String(plotWidth)}" height="${String(panel.height)}" fill="none" stroke="#999"/>`);
  for (const line of panel.lines) {
    if (line.points.length === 0) continue;
    const d = line.points.map(([t, v], i) => `${i === 0 ? "M" : "L"}${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
    const dash = line.dashed === true ? ' stroke-dasharray="6 4" stroke-opacity="0.6"' : "";
    parts.push(`<path d="${d}" fill="none" stroke="${line.color}" stroke-width="${line.dashed === true ? "1.5" : "2"}"${dash}/>`);
  }
  return parts.join("\n");
}

export function chartSvg(title: string, series: readonly ChartSeries[]): string {
  const all = series.flatMap((s) => [...s.throughput, ...s.lag, ...(s.ceiling ?? [])]);
  const xMaxRaw = Math.max(1, ...all.map(([t]) => t));
  const xStep = niceStep(xMaxRaw, 10);
  const xMax = Math.ceil(xMaxRaw / xStep) * xStep;
  const rateMax = Math.max(1, ...series.flatMap((s) => [...s.throughput, ...(s.ceiling ?? [])].map(([, v]) => v)));
  const lagMax = Math.max(1, ...series.flatMap((s) => s.lag.map(([, v]) => v)));
  const roundUp = (v: number): number => Math.ceil((v * 1.05) / niceStep(v * 1.05)) * niceStep(v * 1.05);
  const panelHeight = (HEIGHT - MARGIN.top - MARGIN.bottom - GAP) / 2;
  const top: Panel = {
    title: "Records indexed per second (dashed: the Elasticsearch ceiling's run)",
    top: MARGIN.top,
    height: panelHeight,
    yMax: roundUp(rateMax),
    lines: series.flatMap((s) => [
      { points: s.throughput, color: s.color },
      ...(s.ceiling === undefined ? [] : [{ points: s.ceiling, color: s.color, dashed: true }]),
    ]),
  };
  const bottom: Panel = {
    title: "Consumer lag, records (the worker's gauge, refreshed every 5 s)",
    top: MARGIN.top + panelHeight + GAP,
    height: panelHeight,
    yMax: roundUp(lagMax),
    lines: series.map((s) => ({ points: s.lag, color: s.color })),
  };
  const legend = series
    .map((s, i) => {
      const lx = WIDTH - MARGIN.right - 150 * (series.length - i);
      return `<line x1="${String(lx)}" x2="${String(lx + 26)}" y1="22" y2="22" stroke="${s.color}" stroke-width="3"/>` +
        `<text x="${String(lx + 32)}" y="26" font-size="13">${escape(s.name)}</text>`;
    })
    .join("\n");
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${String(WIDTH)}" height="${String(HEIGHT)}" viewBox="0 0 ${String(WIDTH)} ${String(HEIGHT)}" font-family="${FONT}">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${String(MARGIN.left)}" y="26" font-size="17" font-weight="bold">${escape(title)}</text>`,
    legend,
    panelSvg(top, xMax, xStep),
    panelSvg(bottom, xMax, xStep),
    `<text x="${String(MARGIN.left + (WIDTH - MARGIN.left - MARGIN.right) / 2)}" y="${String(HEIGHT - 10)}" font-size="13" text-anchor="middle" fill="#333">seconds since the worker was assigned its partitions</text>`,
    "</svg>",
    "",
  ].join("\n");
}

/** One panel of a timeline: named lines over the same time axis. */
export interface TimelinePanel {
  readonly title: string;
  readonly lines: readonly { readonly name: string; readonly color: string; readonly points: readonly (readonly [number, number])[]; readonly dashed?: boolean }[];
}

const PANEL_HEIGHT = 150;

/**
 * Several panels stacked over one time axis (the pipeline timeline of a worker run:
 * Elasticsearch's busy cores, requests in flight, the queue, paused partitions), so a
 * gap in one lines up with its cause in another.
 */
export function timelineSvg(title: string, panels: readonly TimelinePanel[]): string {
  const all = panels.flatMap((p) => p.lines.flatMap((l) => l.points));
  const xMaxRaw = Math.max(1, ...all.map(([t]) => t));
  const xStep = niceStep(xMaxRaw, 10);
  const xMax = Math.ceil(xMaxRaw / xStep) * xStep;
  const height = MARGIN.top + MARGIN.bottom + panels.length * PANEL_HEIGHT + (panels.length - 1) * GAP;
  const drawn = panels.map((p, i) => {
    const yMaxRaw = Math.max(1, ...p.lines.flatMap((l) => l.points.map(([, v]) => v)));
    const step = niceStep(yMaxRaw * 1.05);
    const names = p.lines.map((l) => `${l.name}${l.dashed === true ? " (dashed)" : ""}`).join(", ");
    return panelSvg({
      title: `${p.title}: ${names}`,
      top: MARGIN.top + i * (PANEL_HEIGHT + GAP),
      height: PANEL_HEIGHT,
      yMax: Math.ceil((yMaxRaw * 1.05) / step) * step,
      lines: p.lines.map((l) => ({ points: l.points, color: l.color, ...(l.dashed === true ? { dashed: true } : {}) })),
    }, xMax, xStep);
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${String(WIDTH)}" height="${String(height)}" viewBox="0 0 ${String(WIDTH)} ${String(height)}" font-family="${FONT}">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${String(MARGIN.left)}" y="26" font-size="17" font-weight="bold">${escape(title)}</text>`,
    ...drawn,
    `<text x="${String(MARGIN.left + (WIDTH - MARGIN.left - MARGIN.right) / 2)}" y="${String(height - 10)}" font-size="13" text-anchor="middle" fill="#333">seconds since the worker was assigned its partitions</text>`,
    "</svg>",
    "",
  ].join("\n");
}

export interface ChartFiles {
  readonly svg: string;
  /** Undefined when rsvg-convert is missing or failed. */
  readonly png: string | undefined;
  readonly note: string | undefined;
}

/** Writes `<base>.svg`, then `<base>.png` through rsvg-convert when available. */
export function writeChart(base: string, svg: string): ChartFiles {
  const svgPath = `${base}.svg`;
  const pngPath = `${base}.png`;
  writeFileSync(svgPath, svg);
  const result = spawnSync("rsvg-convert", ["-b", "white", "-o", pngPath, svgPath], { encoding: "utf8" });
  if (result.error !== undefined) {
    return { svg: svgPath, png: undefined, note: "rsvg-convert not installed (Debian: apt-get install librsvg2-bin): chart left as SVG" };
  }
  if (result.status !== 0) return { svg: svgPath, png: undefined, note: `rsvg-convert failed: ${result.stderr.trim()}` };
  return { svg: svgPath, png: pngPath, note: undefined };
}
