// Offline preview: runs the program for a stack under the shared mocks, prints what `pulumi preview`
// would show (resource tree, counts, outputs), evaluates the policy pack through its own gRPC
// analyzer, and optionally writes the plan JSON.
//
//   npm run preview:offline -- --stack dev [--json FILE] [--policy-pack DIR] [--policy-pack-config FILE] [--no-policy]
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { runTool, UsageError, walkArgs } from "./cli-args";
import { installMocks, RecordedResource, settle, valueOf } from "./mock-harness";
import { Plan } from "./plan";
import { PROJECT_ROOT, readStackConfig } from "./stack-config";

export interface PreviewOptions {
    stack: string;
    json?: string;
    policyPack?: string;
    policyPackConfig?: string;
    policy: boolean;
}

const USAGE = "usage: npm run preview:offline -- --stack NAME [--json FILE] [--policy-pack DIR] [--policy-pack-config FILE] [--no-policy]";

export function parseArgs(argv: string[]): PreviewOptions {
    const opts: Partial<PreviewOptions> & { policy: boolean } = { policy: true };
    walkArgs(argv, (flag, value) => {
        switch (flag) {
            case "--stack": case "-s": opts.stack = value(); break;
            case "--json": opts.json = value(); break;
            case "--policy-pack": opts.policyPack = value(); break;
            case "--policy-pack-config": opts.policyPackConfig = value(); break;
            case "--no-policy": opts.policy = false; break;
            default: throw new UsageError(`unknown argument ${flag}`);
        }
    });
    if (!opts.stack) throw new UsageError("--stack is required");
    return opts as PreviewOptions;
}

/** Runs the program under mocks and returns the plan (without policy results). */
export async function buildPlan(stack: string, warn: (msg: string) => void = () => undefined): Promise<Plan> {
    const cfg = readStackConfig(stack);
    for (const key of cfg.encryptedKeys) {
        const instead = key in cfg.values ? `with Pulumi.yaml's default (${cfg.values[key]}) instead` : "without it";
        warn(`${key} is a secret (secure: in Pulumi.${stack}.yaml) that cannot be decrypted offline; the preview runs ${instead}.`);
    }
    const region = cfg.values["aws:region"] ?? "ap-northeast-1";
    const recorder = await installMocks({ project: cfg.project, stack, region, config: cfg.values, preview: true });

    // Errors raised inside applies surface as unhandled rejections, as under the CLI: collect them.
    const asyncErrors: unknown[] = [];
    const onError = (err: unknown) => { asyncErrors.push(err); };
    process.on("unhandledRejection", onError);
    process.on("uncaughtException", onError);
    try {
        const outputs = await pulumi.runtime.runInPulumiStack(async () => require(path.join(PROJECT_ROOT, "index.ts")));
        await settle();
        if (asyncErrors.length > 0) throw asyncErrors[0];
        const resolved = await valueOf(pulumi.output(outputs ?? {}) as pulumi.Output<Record<string, unknown>>);
        return { project: cfg.project, stack, resources: recorder.resources, outputs: resolved, policy: null };
    } finally {
        process.off("unhandledRejection", onError);
        process.off("uncaughtException", onError);
    }
}

// ------------------------------------------------------------------------------------------------
// Printing, in the shape `pulumi preview` uses
// ------------------------------------------------------------------------------------------------

export function formatTree(plan: Plan): string {
    const children = new Map<string | null, RecordedResource[]>();
    for (const r of plan.resources) {
        const key = r.parent && plan.resources.some((p) => p.urn === r.parent) ? r.parent : null;
        children.set(key, [...(children.get(key) ?? []), r]);
    }
    const rows: Array<[string, string, string]> = [];
    const walk = (parent: string | null, prefix: string) => {
        const kids = children.get(parent) ?? [];
        kids.forEach((r, i) => {
            const last = i === kids.length - 1;
            const branch = parent === null ? "" : prefix + (last ? "└─ " : "├─ ");
            const flags = [r.protect ? "protect" : "", r.retainOnDelete ? "retain" : ""].filter(Boolean).join(", ");
            rows.push([branch + r.type, r.name, flags ? `create (${flags})` : "create"]);
            walk(r.urn, parent === null ? "" : prefix + (last ? "   " : "│  "));
        });
    };
    walk(null, "");
    const w0 = Math.max(4, ...rows.map((r) => r[0].length));
    const w1 = Math.max(4, ...rows.map((r) => r[1].length));
    return [
        `     ${"Type".padEnd(w0)}  ${"Name".padEnd(w1)}  Plan`,
        ...rows.map(([t, n, p]) => ` +   ${t.padEnd(w0)}  ${n.padEnd(w1)}  ${p}`),
    ].join("\n");
}

export function formatCounts(plan: Plan): string {
    const counts = new Map<string, number>();
    for (const r of plan.resources) counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
    const lines = [...counts.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([t, c]) => `    ${String(c).padStart(3)} ${t}`);
    return [`Resources: + ${plan.resources.length} to create`, ...lines].join("\n");
}

export function formatOutputs(plan: Plan): string {
    const keys = Object.keys(plan.outputs);
    const w = Math.max(0, ...keys.map((k) => k.length));
    return ["Outputs (mock values; a real preview shows most of them as output<string> until apply):",
        ...keys.map((k) => `    ${k.padEnd(w)}: ${JSON.stringify(plan.outputs[k])}`)].join("\n");
}

async function main(argv: string[]): Promise<number> {
    const started = Date.now();
    const opts = parseArgs(argv);
    const plan = await buildPlan(opts.stack, (msg) => console.warn(`warning: ${msg}`));
    console.log(`Previewing update (${plan.stack}) offline: the program under mocks, no cloud calls\n`);
    console.log(formatTree(plan));
    console.log();
    console.log(formatOutputs(plan));
    console.log();
    console.log(formatCounts(plan));

    let exitCode = 0;
    if (opts.policy) {
        // Given paths are relative to the working directory, as on the CLI; the defaults to the project.
        const packDir = opts.policyPack ?? path.join(PROJECT_ROOT, "policy-pack");
        const defaultConfig = path.join(packDir, `${opts.stack}.json`);
        const configFile = opts.policyPackConfig ?? (fs.existsSync(defaultConfig) ? defaultConfig : undefined);
        // Loaded only when needed: --no-policy runs stay free of the gRPC machinery.
        const { evaluatePolicies, formatViolations } = await import("./policy-analyzer");
        const result = await evaluatePolicies(plan, { packDir, configFile });
        plan.policy = result;
        console.log();
        console.log(formatViolations(result, plan));
        if (result.mandatoryCount > 0) exitCode = 1;
    }
    if (opts.json) {
        fs.writeFileSync(opts.json, JSON.stringify(plan, null, 2) + "\n");
        console.log(`\nPlan written to ${opts.json}`);
    }
    console.log(`\nDuration: ${((Date.now() - started) / 1000).toFixed(1)}s`);
    return exitCode;
}

/** Errors that end the preview with their message alone: bad settings, stack files, pack or pack config. */
export const EXPECTED_ERRORS = ["SettingsError", "StackConfigError", "PolicyPackError", "PolicyConfigError"];

if (require.main === module) {
    runTool(main, USAGE, EXPECTED_ERRORS, 1, "the program failed: ");
}
