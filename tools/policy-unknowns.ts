// What the engine sends the analyzer for a plan resource. In a first `pulumi preview` nothing has
// been created: computed outputs (IDs, ARNs, …) are unknown, and so is every input built from one.
// The plan holds mock values instead; this marks them unknown again, following property
// dependencies, so the policies meet the same unknowns they meet under the CLI. In an update
// (`pulumi up`) the values are known, which is the plan as recorded.
import type { Plan, PlanResource } from "./plan";

/** The engine's marker for an unknown value (the same string @pulumi/pulumi uses over gRPC). */
export const UNKNOWN_VALUE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** "preview": a first preview, where computed values are unknown; "known": every value as in the plan. */
export type ValueMode = "preview" | "known";

export interface AnalyzerProperties {
    /** Sent with Analyze: the resource's inputs. */
    inputs: Record<string, unknown>;
    /** Sent with AnalyzeStack: the resource's outputs (inputs plus computed properties). */
    outputs: Record<string, unknown>;
}

/** Strings shorter than this, or all digits (account IDs come from invokes, which are known), never mark a value unknown. */
function significant(s: string): boolean {
    return s.length >= 8 && !/^\d+$/.test(s);
}

function stringLeaves(value: unknown, out: Set<string>): void {
    if (typeof value === "string") {
        if (significant(value)) out.add(value);
    } else if (Array.isArray(value)) {
        for (const v of value) stringLeaves(v, out);
    } else if (value && typeof value === "object") {
        for (const v of Object.values(value)) stringLeaves(v, out);
    }
}

/** Adds to `out` the strings of `before` that became the unknown marker in `after`. */
function lostLeaves(before: unknown, after: unknown, out: Set<string>): void {
    if (after === UNKNOWN_VALUE && before !== UNKNOWN_VALUE) {
        stringLeaves(before, out);
    } else if (before && after && typeof before === "object" && typeof after === "object") {
        for (const [k, v] of Object.entries(before)) lostLeaves(v, (after as Record<string, unknown>)[k], out);
    }
}

/** Replaces every string leaf that contains one of `unknown` with the unknown marker. */
function markUnknown(value: unknown, unknown: Set<string>): unknown {
    if (unknown.size === 0) return value;
    if (typeof value === "string") {
        for (const s of unknown) if (value.includes(s)) return UNKNOWN_VALUE;
        return value;
    }
    if (Array.isArray(value)) return value.map((v) => markUnknown(v, unknown));
    if (value && typeof value === "object") {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, markUnknown(v, unknown)]));
    }
    return value;
}

/** JSON-safe copy (the gRPC Struct cannot carry `undefined`). */
function plain<T>(value: T): T {
    return value === undefined ? value : JSON.parse(JSON.stringify(value));
}

/** Analyze / AnalyzeStack properties for every resource of the plan, by URN. */
export function analyzerProperties(plan: Plan, mode: ValueMode): Map<string, AnalyzerProperties> {
    const out = new Map<string, AnalyzerProperties>();
    if (mode === "known") {
        for (const r of plan.resources) out.set(r.urn, { inputs: plain(r.inputs), outputs: plain(r.outputs) });
        return out;
    }

    const byUrn = new Map(plan.resources.map((r) => [r.urn, r]));
    const children = new Map<string, PlanResource[]>();
    for (const r of plan.resources) if (r.parent) children.set(r.parent, [...(children.get(r.parent) ?? []), r]);

    // Strings a resource's outputs carry that a first preview does not know.
    const unknownOf = new Map<string, Set<string>>();
    const inputsOf = new Map<string, Record<string, unknown>>();
    const visiting = new Set<string>();

    const previewInputs = (r: PlanResource): Record<string, unknown> => {
        const done = inputsOf.get(r.urn);
        if (done) return done;
        const inputs: Record<string, unknown> = {};
        for (const [prop, value] of Object.entries(plain(r.inputs) ?? {})) {
            const deps = new Set<string>();
            for (const urn of r.propertyDependencies[prop] ?? []) for (const s of unknownStrings(urn)) deps.add(s);
            inputs[prop] = markUnknown(value, deps);
        }
        inputsOf.set(r.urn, inputs);
        return inputs;
    };

    const unknownStrings = (urn: string): Set<string> => {
        const done = unknownOf.get(urn);
        if (done) return done;
        const r = byUrn.get(urn);
        const set = new Set<string>();
        if (!r || visiting.has(urn)) return set;
        visiting.add(urn);
        if (r.custom) {
            if (r.id && significant(r.id)) set.add(r.id);
            for (const key of r.computed) if (key !== "id") stringLeaves(r.outputs[key], set);
            // An input that was itself unknown stays unknown when read back as an output.
            const inputs = previewInputs(r);
            for (const [prop, value] of Object.entries(inputs)) lostLeaves(r.inputs[prop], value, set);
        } else {
            // A component's outputs come from its children.
            for (const child of children.get(urn) ?? []) for (const s of unknownStrings(child.urn)) set.add(s);
        }
        visiting.delete(urn);
        unknownOf.set(urn, set);
        return set;
    };

    for (const r of plan.resources) {
        const inputs = previewInputs(r);
        let outputs: Record<string, unknown>;
        if (r.custom) {
            outputs = { ...plain(r.outputs), ...inputs };
            for (const key of r.computed) if (key !== "id") outputs[key] = UNKNOWN_VALUE;
        } else {
            outputs = markUnknown(plain(r.outputs), unknownStrings(r.urn)) as Record<string, unknown>;
        }
        out.set(r.urn, { inputs, outputs });
    }
    return out;
}
