// Evaluates a saved plan JSON (from `npm run preview:offline -- --stack S --json FILE`) against the
// policy pack, the way the offline preview does, so a plan can be edited and checked again.
//
//   npm run policy:check -- PLAN.json [--policy-pack DIR] [--policy-pack-config FILE] [--values preview|known|both]
//
// Exit status: 0 without mandatory violations, 1 with any, 2 when the check could not run.
import * as fs from "fs";
import * as path from "path";
import { runTool, UsageError, walkArgs } from "./cli-args";
import type { Plan } from "./plan";
import { evaluatePolicies, formatViolations } from "./policy-analyzer";
import type { ValueMode } from "./policy-unknowns";

const USAGE = "usage: npm run policy:check -- PLAN.json [--policy-pack DIR] [--policy-pack-config FILE] [--values preview|known|both]";

export interface CheckOptions {
    plan: string;
    policyPack: string;
    policyPackConfig?: string;
    values: ValueMode | "both";
}

export function parseArgs(argv: string[]): CheckOptions {
    let plan: string | undefined;
    const opts: Partial<CheckOptions> = { policyPack: "policy-pack", values: "both" };
    walkArgs(argv, (flag, value) => {
        switch (flag) {
            case "--policy-pack": opts.policyPack = value(); break;
            case "--policy-pack-config": opts.policyPackConfig = value(); break;
            case "--values": {
                const v = value();
                if (v !== "preview" && v !== "known" && v !== "both") throw new UsageError(`--values must be preview, known or both, not ${v}`);
                opts.values = v;
                break;
            }
            default:
                if (flag.startsWith("-") || plan !== undefined) throw new UsageError(`unexpected argument ${flag}`);
                plan = flag;
        }
    });
    if (!plan) throw new UsageError("a plan JSON file is required");
    return { ...opts, plan } as CheckOptions;
}

function readPlan(file: string): Plan {
    let plan: Plan;
    try {
        plan = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (err) {
        throw new UsageError(`cannot read plan ${file}: ${(err as Error).message}`);
    }
    if (!plan || !Array.isArray(plan.resources) || typeof plan.stack !== "string") {
        throw new UsageError(`${file} is not a plan (expected { project, stack, resources: [...] })`);
    }
    return plan;
}

async function main(argv: string[]): Promise<number> {
    const opts = parseArgs(argv);
    const plan = readPlan(opts.plan);
    // Like the offline preview: the stack's own config file next to the pack, unless one is given.
    const stackConfig = path.join(opts.policyPack, `${plan.stack}.json`);
    const configFile = opts.policyPackConfig ?? (fs.existsSync(stackConfig) ? stackConfig : undefined);
    const result = await evaluatePolicies(plan, { packDir: opts.policyPack, configFile, values: opts.values });
    console.log(`Checking ${opts.plan} (${plan.project}/${plan.stack}, ${plan.resources.length} resources)\n`);
    console.log(formatViolations(result, plan));
    return result.mandatoryCount > 0 ? 1 : 0;
}

if (require.main === module) {
    runTool(main, USAGE, ["PolicyPackError", "PolicyConfigError"], 2);
}
