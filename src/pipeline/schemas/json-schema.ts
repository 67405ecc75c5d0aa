/**
 * JSON Schema records: the payload after the 5-byte frame is JSON text, validated
 * against the registry's schema (ajv, compiled once per schema id). A valid record's
 * document is its payload bytes as they are (the decoder splices in its fields without
 * re-serializing); one that is not JSON, or does not validate, takes the failure policy.
 *
 * The draft follows the schema's `$schema`: 2020-12, 2019-09, else draft-07 (which
 * also reads draft-06 schemas). Formats are not checked (`format` is an annotation
 * here, as in draft 2019-09 and later by default).
 */
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { Ajv2019 } from "ajv/dist/2019.js";
import { Ajv2020 } from "ajv/dist/2020.js";
import draft06 from "ajv/dist/refs/json-schema-draft-06.json" with { type: "json" };
import { RecordDecodeError } from "../../errors.ts";
import type { RegistrySchema, SchemaReader } from "./schema-reader.ts";
import { FRAME_BYTES } from "./wire-format.ts";

const OPTIONS = { strict: false, validateFormats: false, allErrors: false, logger: false } as const;

function validatorFor(schema: Record<string, unknown>): Ajv | Ajv2019 | Ajv2020 {
  const draft = typeof schema.$schema === "string" ? schema.$schema : "";
  if (draft.includes("2020-12")) return new Ajv2020(OPTIONS);
  if (draft.includes("2019-09")) return new Ajv2019(OPTIONS);
  const ajv = new Ajv(OPTIONS);
  ajv.addMetaSchema(draft06);
  return ajv;
}

function parseSchema(text: string): Record<string, unknown> {
  const parsed: unknown = JSON.parse(text);
  // `true` and `false` are schemas too (accept all, accept nothing).
  if (typeof parsed === "boolean") return parsed ? {} : { not: {} };
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("the JSON schema is not an object");
  return parsed as Record<string, unknown>;
}

/** The referenced schemas, by the name the main schema's $refs use, then the main one compiled. */
function compileValidator(schema: RegistrySchema): ValidateFunction {
  const main = parseSchema(schema.schema);
  const ajv = validatorFor(main);
  const added = new Set<string>();
  const addReferences = (s: RegistrySchema): void => {
    for (const reference of s.references) {
      if (added.has(reference.name)) continue;
      added.add(reference.name);
      addReferences(reference.schema);
      ajv.addSchema(parseSchema(reference.schema.schema), reference.name);
    }
  };
  addReferences(schema);
  return ajv.compile(main);
}

function describeErrors(errors: readonly ErrorObject[] | null | undefined): string {
  const first = errors?.[0];
  if (first === undefined) return "does not validate against its JSON schema";
  return `does not validate against its JSON schema: ${first.instancePath === "" ? "the document" : first.instancePath} ${first.message ?? "is invalid"}`;
}

export function compileJsonSchema(schema: RegistrySchema): SchemaReader {
  const validate = compileValidator(schema);
  return {
    format: "json-schema",
    read(framed: Buffer): Buffer {
      const payload = framed.subarray(FRAME_BYTES);
      let value: unknown;
      try {
        value = JSON.parse(payload.toString("utf8"));
      } catch (error) {
        throw new RecordDecodeError("json_schema_decode_error", `is not JSON: ${error instanceof Error ? error.message : String(error)}`, error);
      }
      if (!validate(value)) throw new RecordDecodeError("json_schema_validation_error", describeErrors(validate.errors));
      return payload;
    },
  };
}
