/**
 * The direction of imports between the folders of src/, checked over the real import
 * graph (type-only imports count: they are dependencies too).
 *
 * The rule: source (Kafka) -> pipeline -> sink, with config and telemetry beside them and
 * the composition root on top. Each folder may import only the folders listed for it:
 *
 *   errors.ts                 nothing
 *   shared/                   errors.ts                     pure helpers below every layer
 *   pipeline/                 shared/, errors.ts
 *   source/, sink/            pipeline/, shared/, errors.ts  never each other, config/,
 *                                                            telemetry/, compose/, replay/,
 *                                                            redrive/, app.ts or main.ts:
 *                                                            they report through observers
 *   config/                   pipeline/, source/, sink/, shared/, errors.ts
 *                             (the option types and format checks of the layers it
 *                             configures; no layer below imports config/ back)
 *   telemetry/                pipeline/, source/, sink/, shared/, errors.ts
 *                             (it implements their observers)
 *   compose/, replay/, redrive/, app.ts, main.ts   anything: the composition roots
 *
 * Imports inside a folder (src/source/auth/ -> src/source/offsets/) are free.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import ts from "typescript";

const SRC = path.resolve(import.meta.dirname, "../../../src");

const BELOW_LAYERS = ["shared", "errors.ts"];
const ANYTHING = undefined;

/** Per top-level entry of src/: what it may import besides itself; undefined = anything. */
const MAY_IMPORT: Readonly<Record<string, readonly string[] | undefined>> = {
  "errors.ts": [],
  shared: ["errors.ts"],
  pipeline: BELOW_LAYERS,
  source: ["pipeline", ...BELOW_LAYERS],
  sink: ["pipeline", ...BELOW_LAYERS],
  config: ["pipeline", "source", "sink", ...BELOW_LAYERS],
  telemetry: ["pipeline", "source", "sink", ...BELOW_LAYERS],
  compose: ANYTHING,
  replay: ANYTHING,
  redrive: ANYTHING,
  "app.ts": ANYTHING,
  "main.ts": ANYTHING,
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith(".ts") ? [full] : [];
  });
}

/** The top-level entry of src/ a file belongs to: "source" for src/source/auth/x.ts, "app.ts" for src/app.ts. */
function areaOf(file: string): string {
  return path.relative(SRC, file).split(path.sep)[0] ?? "";
}

/** Every relative import, export-from and dynamic import of a file, resolved to a path. */
function importsOf(file: string): string[] {
  const { importedFiles } = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
  return importedFiles.map((f) => f.fileName).filter((name) => name.startsWith(".")).map((name) => path.resolve(path.dirname(file), name));
}

/** "src/a.ts -> src/b.ts" for every import the rule forbids. */
function violations(files: readonly string[], imports: (file: string) => readonly string[]): string[] {
  const found: string[] = [];
  for (const file of files) {
    const from = areaOf(file);
    const allowed = MAY_IMPORT[from];
    if (allowed === undefined) continue;
    for (const target of imports(file)) {
      const to = areaOf(target);
      if (to !== from && !allowed.includes(to)) found.push(`src/${path.relative(SRC, file)} -> src/${path.relative(SRC, target)}`);
    }
  }
  return found;
}

describe("import direction between the folders of src/", () => {
  const files = sourceFiles(SRC);

  test("every top-level entry of src/ has a rule", () => {
    const areas = [...new Set(files.map(areaOf))].sort();
    const unruled = areas.filter((area) => !(area in MAY_IMPORT));
    assert.deepEqual(unruled, [], "add the new folder to MAY_IMPORT (and to the comment above it)");
  });

  test("no layer imports one above it", () => {
    assert.deepEqual(violations(files, importsOf), []);
  });

  test("the check sees type-only imports, export-from and nested folders", () => {
    const file = path.join(SRC, "sink", "nested", "x.ts");
    const target = (p: string): string => path.join(SRC, p);
    const found = violations([file], () => [target("telemetry/metrics.ts"), target("sink/observer.ts"), target("shared/record-excerpt.ts"), target("source/auth/msk-iam.ts")]);
    assert.deepEqual(found, ["src/sink/nested/x.ts -> src/telemetry/metrics.ts", "src/sink/nested/x.ts -> src/source/auth/msk-iam.ts"]);
    const text = 'import type { A } from "../../telemetry/a.ts";\nexport { B } from "../b.ts";\nconst c = await import("./c.ts");';
    const names = ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
    assert.deepEqual(names, ["../../telemetry/a.ts", "../b.ts", "./c.ts"]);
  });
});
