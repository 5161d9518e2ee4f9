// Policy-pack configuration the way the Pulumi CLI builds it for --policy-pack-config: parse the
// file (a policy name → an enforcement level string, or an object with enforcementLevel and
// properties; "all" sets every level), lay it over each policy's schema defaults and the pack's
// initial config, then validate each policy's properties against its configSchema.
import * as fs from "fs";
import Ajv from "ajv";

export type EnforcementLevel = "advisory" | "mandatory" | "remediate" | "disabled";
export const ENFORCEMENT_LEVELS: EnforcementLevel[] = ["advisory", "mandatory", "remediate", "disabled"];

export interface PolicyConfigEntry {
    enforcementLevel?: EnforcementLevel;
    properties?: Record<string, unknown>;
}
export type PackConfig = Record<string, PolicyConfigEntry>;

/** What the analyzer reports about one policy (GetAnalyzerInfo). */
export interface PolicyDescriptor {
    name: string;
    description: string;
    enforcementLevel: EnforcementLevel;
    configSchema?: { properties: Record<string, any>; required?: string[] };
}

export class PolicyConfigError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "PolicyConfigError";
    }
}

function isLevel(v: unknown): v is EnforcementLevel {
    return typeof v === "string" && (ENFORCEMENT_LEVELS as string[]).includes(v);
}

/** Parses a --policy-pack-config document (its text), as the CLI does. */
export function parsePolicyPackConfig(text: string, file = "policy pack config"): PackConfig {
    if (text.trim() === "") return {};
    let doc: unknown;
    try {
        doc = JSON.parse(text);
    } catch (err) {
        throw new PolicyConfigError(`${file}: not JSON: ${(err as Error).message}`);
    }
    if (typeof doc !== "object" || doc === null || Array.isArray(doc)) throw new PolicyConfigError(`${file}: must be a JSON object keyed by policy name`);
    const out: PackConfig = {};
    for (const [policy, value] of Object.entries(doc)) {
        if (typeof value === "string") {
            if (!isLevel(value)) throw new PolicyConfigError(`${file}: parsing enforcement level for "${policy}": "${value}" is not a valid enforcement level`);
            out[policy] = { enforcementLevel: value };
        } else if (typeof value === "object" && value !== null && !Array.isArray(value)) {
            const { enforcementLevel, ...properties } = value as Record<string, unknown>;
            if (enforcementLevel !== undefined && !isLevel(enforcementLevel)) {
                throw new PolicyConfigError(`${file}: parsing enforcement level for "${policy}": ${JSON.stringify(enforcementLevel)} is not a valid enforcement level`);
            }
            if (enforcementLevel === undefined && Object.keys(properties).length === 0) continue;
            out[policy] = { enforcementLevel: enforcementLevel as EnforcementLevel | undefined, ...(Object.keys(properties).length > 0 ? { properties } : {}) };
        } else {
            throw new PolicyConfigError(`${file}: parsing "${policy}": ${JSON.stringify(value)} is not a valid value; must be a string or object`);
        }
    }
    return out;
}

export function loadPolicyPackConfig(file: string): PackConfig {
    return parsePolicyPackConfig(fs.readFileSync(file, "utf8"), file);
}

function apply(result: PackConfig, given: PackConfig): PackConfig {
    const out: PackConfig = { ...result };
    const all = given.all?.enforcementLevel;
    if (all) for (const k of Object.keys(out)) out[k] = { ...out[k], enforcementLevel: all };
    for (const [policy, entry] of Object.entries(given)) {
        const prev = out[policy] ?? {};
        out[policy] = {
            enforcementLevel: entry.enforcementLevel ?? prev.enforcementLevel,
            properties: entry.properties || prev.properties ? { ...prev.properties, ...entry.properties } : undefined,
        };
    }
    return out;
}

/**
 * Schema defaults, then the pack's initial config, then the file; each policy's properties are
 * validated against `{type: object, properties, required}` of its configSchema.
 */
export function reconcilePolicyPackConfig(policies: PolicyDescriptor[], initial: PackConfig, given: PackConfig): PackConfig {
    let result: PackConfig = {};
    for (const p of policies) {
        const defaults = Object.entries(p.configSchema?.properties ?? {}).filter(([, s]) => s && s.default !== undefined);
        result[p.name] = { enforcementLevel: p.enforcementLevel, ...(defaults.length > 0 ? { properties: Object.fromEntries(defaults.map(([k, s]) => [k, s.default])) } : {}) };
    }
    result = apply(apply(result, initial), given);

    // Like the CLI's gojsonschema, unknown keywords are ignored rather than refused.
    const ajv = new Ajv({ allErrors: true, strict: false });
    const errors: string[] = [];
    for (const p of policies) {
        if (!p.configSchema) continue;
        const schema = { type: "object", properties: p.configSchema.properties, ...(p.configSchema.required?.length ? { required: p.configSchema.required } : {}) };
        const validate = ajv.compile(schema);
        if (!validate(result[p.name]?.properties ?? {})) {
            for (const e of validate.errors ?? []) errors.push(`${p.name}: ${e.instancePath || "(root)"} ${e.message}`);
        }
    }
    if (errors.length > 0) throw new PolicyConfigError(`policy pack configuration is invalid:\n  ${errors.join("\n  ")}`);
    return result;
}
