/**
 * The answer of a health or readiness check, as the HTTP server serves it: `ok`, plus
 * why not, in words an operator can act on.
 */
export interface ProbeResult {
  readonly ok: boolean;
  /** The first (or only) reason it is not ok. */
  readonly reason?: string;
  /** Every reason, when several checks failed. */
  readonly reasons?: readonly string[];
  /** Extra facts shown in the JSON body (e.g. seconds since each loop last ran). */
  readonly details?: Readonly<Record<string, unknown>>;
  /** Facts shown in the body whatever the answer (e.g. held partitions, which do not make a worker unready). */
  readonly notes?: Readonly<Record<string, unknown>>;
}

/** One named readiness condition, e.g. `{ name: "elasticsearch", ok: () => esUp, reason: "Elasticsearch unreachable" }`. */
export interface ReadinessCheck {
  readonly name: string;
  readonly ok: () => boolean;
  /** Said when the check fails; defaults to "<name> not ready". */
  readonly reason?: string;
}

/** Ready when every check passes; otherwise lists each failing check's reason. */
export function combineChecks(checks: readonly ReadinessCheck[]): ProbeResult {
  const reasons: string[] = [];
  const details: Record<string, boolean> = {};
  for (const check of checks) {
    let ok: boolean;
    try {
      ok = check.ok();
    } catch {
      ok = false;
    }
    details[check.name] = ok;
    if (!ok) reasons.push(check.reason ?? `${check.name} not ready`);
  }
  const [first] = reasons;
  return first === undefined ? { ok: true, details } : { ok: false, reason: first, reasons, details };
}
